"""LightGCN on Beauty trained full-graph and with the mini-batch neighbour loader, side by side.

Same split, model, seed and number of epochs (early stopping off, so both see the same
number of passes); reports seconds per training epoch and test metrics at the best
validation epoch. Writes ``benchmarks/results/minibatch_vs_full.json`` (or ``--out``) and
prints a markdown table.

Usage::

    python benchmarks/minibatch_vs_full.py [--epochs 20] [--fanout 10,5]
"""
import argparse
import platform
from pathlib import Path

import torch

from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.io import write_json
from pyg_llminit.models import LightGCN
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.allocator import retain_freed_memory
from pyg_llminit.transforms.split import LeaveOneOutSplit

RESULTS = Path(__file__).parent / 'results'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--fanout', default='10,5')
    parser.add_argument('--out', default=str(RESULTS / 'minibatch_vs_full.json'))
    args = parser.parse_args()
    retain_freed_memory()  # as the CLI's train command
    train, val, test = LeaveOneOutSplit()(AmazonBeauty()[0])
    rows = {}
    for loader in ('full', 'neighbor'):
        torch.manual_seed(2020)
        model = LightGCN(train['user'].num_nodes, train['item'].num_nodes, 128, 2)
        config = TrainConfig(epochs=args.epochs, patience=args.epochs, loader=loader,
                             fanout=tuple(int(f) for f in args.fanout.split(',')))
        trainer = Trainer(model, train, val, test, config, log=lambda s: None)
        results = trainer.fit()
        train_s = sorted(h.seconds - h.eval_seconds for h in trainer.history)
        rows[loader] = {'train_epoch_s': train_s[len(train_s) // 2], **results}
        print(loader, rows[loader]['train_epoch_s'], results['test'], flush=True)
    machine = (f'{platform.processor() or platform.machine()}, {torch.get_num_threads()} '
               f'threads, torch {torch.__version__}')
    lines = [f'Machine: {machine}. Beauty LOO (time order), LightGCN d 128, 2 layers, batch '
             f'2048, Adam 1e-3, seed 2020, {args.epochs} epochs each (no early stop), '
             f'neighbour fan-out {args.fanout}.', '',
             '| loader | train epoch (s, median) | best epoch | test Recall@10 | test NDCG@10 |',
             '| --- | --- | --- | --- | --- |']
    for loader, r in rows.items():
        lines.append(f'| {loader} | {r["train_epoch_s"]:.1f} | {r["best_epoch"]} | '
                     f'{r["test"]["recall@10"]:.4f} | {r["test"]["ndcg@10"]:.4f} |')
    print('\n'.join(lines))
    write_json(args.out, {'machine': machine, 'rows': rows, 'markdown': '\n'.join(lines)})


if __name__ == '__main__':
    main()
