"""LLMInit evidence on Beauty: LightGCN from each ``--init``, several seeds, resumable.

For every (init, seed) pair: leave-one-out in time order, d = 128, 2 layers, Adam 1e-3,
batch 2048, early stopping on validation NDCG@10 (patience 10); test metrics at the best
validation epoch. Each finished run is merged into the JSON file at once (atomically), so the
script can be stopped and restarted and only runs what is missing. At the end it writes a
markdown table: test Recall@10 and NDCG@10 (mean +- std over seeds) and the first epoch at
which each init reaches the best validation NDCG@10 of ``none`` (same seed).

Usage::

    python benchmarks/llminit_inits.py --inits none,variance --seeds 2020 --epochs 300
    python benchmarks/llminit_inits.py            # all of none,random,uniform,variance,pca x 3 seeds
"""
import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.initialize import llminit_features
from pyg_llminit.io import write_json
from pyg_llminit.models import LightGCN
from pyg_llminit.split import LeaveOneOutSplit
from pyg_llminit.train import TrainConfig, Trainer

HERE = Path(__file__).parent


def run_one(splits, init: str, seed: int, epochs: int, encoder: str, scale: str) -> dict:
    train, val, test = splits
    nu, ni = train['user'].num_nodes, train['item'].num_nodes
    torch.manual_seed(seed)
    model = LightGCN(nu, ni, 128, 2)
    if init != 'none':
        user_x, item_x, _ = llminit_features(train, init, 128, encoder, seed=seed, scale=scale,
                                             progress=False)
        model.init_from_x(user_x, item_x)
    trainer = Trainer(model, train, val, test, TrainConfig(epochs=epochs, seed=seed,
                                                           device='cpu'), log=lambda s: None)
    results = trainer.fit()
    results['val_curve'] = [h.val['ndcg@10'] for h in trainer.history]
    return results


def first_epoch_reaching(curve, target):
    return next((i + 1 for i, v in enumerate(curve) if v >= target), None)


def table(runs: dict, inits, seeds) -> str:
    lines = ['| init | test Recall@10 | test NDCG@10 | best epoch | epoch reaching none\'s best '
             'val NDCG@10 | runs |', '| --- | --- | --- | --- | --- | --- |']
    for init in inits:
        done = [runs[f'{init}/{s}'] for s in seeds if f'{init}/{s}' in runs]
        if not done:
            continue
        fmt = lambda xs: (f'{statistics.mean(xs):.4f} +- {statistics.stdev(xs):.4f}'  # noqa
                          if len(xs) > 1 else f'{xs[0]:.4f}')
        reach = []
        for s in seeds:
            base, run = runs.get(f'none/{s}'), runs.get(f'{init}/{s}')
            if base and run:
                reach.append(str(first_epoch_reaching(run['val_curve'],
                                                      max(base['val_curve'])) or '-'))
        lines.append(f'| {init} | {fmt([r["test"]["recall@10"] for r in done])} | '
                     f'{fmt([r["test"]["ndcg@10"] for r in done])} | '
                     f'{", ".join(str(r["best_epoch"]) for r in done)} | '
                     f'{", ".join(reach) or "-"} | {len(done)} |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--inits', default='none,random,uniform,variance,pca')
    parser.add_argument('--seeds', default='2020,2021,2022')
    parser.add_argument('--epochs', type=int, default=300)
    parser.add_argument('--encoder', default='minilm')
    parser.add_argument('--scale', default='none', help="--init-scale: none, xavier, or a std")
    parser.add_argument('--out', default=str(HERE / 'llminit_inits.json'))
    args = parser.parse_args()
    inits, seeds = args.inits.split(','), [int(s) for s in args.seeds.split(',')]
    out = Path(args.out)
    runs = json.loads(out.read_text()) if out.exists() else {}
    splits = LeaveOneOutSplit()(AmazonBeauty()[0])
    for init in inits:
        for seed in seeds:
            key = f'{init}/{seed}'
            if key in runs:
                continue
            start = time.perf_counter()
            runs[key] = run_one(splits, init, seed, args.epochs, args.encoder, args.scale)
            runs[key].update(wall_seconds=time.perf_counter() - start, epochs_cap=args.epochs,
                             encoder=args.encoder, scale=args.scale)
            write_json(out, runs)
            print(f'{key}: test ndcg@10 {runs[key]["test"]["ndcg@10"]:.4f}, best epoch '
                  f'{runs[key]["best_epoch"]}, {runs[key]["wall_seconds"]:.0f} s', flush=True)
    md = (f'Machine: {platform.machine()}, {torch.get_num_threads()} threads, torch '
          f'{torch.__version__}. Encoder {args.encoder}, scale {args.scale}, epochs cap '
          f'{args.epochs}.\n\n' + table(runs, inits, seeds) + '\n')
    print(md)
    out.with_suffix('.md').write_text(md)


if __name__ == '__main__':
    main()
