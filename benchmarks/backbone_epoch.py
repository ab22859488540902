"""Times one training epoch and one full evaluation of every backbone on Amazon Beauty.

Setting: leave-one-out in time order, d = 128, 2 layers, batch 2048, Adam lr 1e-3, each
model's default hyper-parameters; the same :class:`~pyg_llminit.training.Trainer` step (its
own fused Adam) the CLI runs (per-epoch work such as SGL's views included), with glibc
keeping freed buffers as in the CLI. Reports the best and the mean of ``--repeats`` epochs
after one warm-up epoch, and the ratio to LightGCN measured in the same run. Writes
``benchmarks/results/backbone_epoch.json`` (or ``--out``) and prints a markdown table.

Usage::

    python benchmarks/backbone_epoch.py [--models lightgcn,sgl] [--repeats 2] [--device cuda]
"""
import argparse
import platform
import time
from pathlib import Path

import torch

from pyg_llminit.catalog import MODELS
from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.io import write_json
from pyg_llminit.models import build_model
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.allocator import retain_freed_memory
from pyg_llminit.transforms.split import LeaveOneOutSplit

RESULTS = Path(__file__).parent / 'results'


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed(fn, repeats: int, device: str):
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return min(times), sum(times) / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', default=','.join(MODELS))
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', default=str(RESULTS / 'backbone_epoch.json'))
    args = parser.parse_args()
    retain_freed_memory()  # as the CLI's train command
    train, val, test = LeaveOneOutSplit()(AmazonBeauty()[0])
    nu, ni = train['user'].num_nodes, train['item'].num_nodes
    device_name = (torch.cuda.get_device_name() if args.device.startswith('cuda') else
                   f'{platform.processor() or platform.machine()} CPU, '
                   f'{torch.get_num_threads()} threads')
    results = {}
    for name in args.models.split(','):
        torch.manual_seed(0)
        model = build_model(name, nu, ni, embedding_dim=128, num_layers=2)
        trainer = Trainer(model, train, val, test, TrainConfig(device=args.device),
                          log=lambda s: None)
        trainer.train_epoch()  # warm-up
        epoch = timed(trainer.train_epoch, args.repeats, args.device)
        evaluation = timed(trainer.validate, args.repeats, args.device)
        results[name] = {'train_epoch_s': epoch, 'eval_s': evaluation,
                         'parameters': sum(p.numel() for p in model.parameters())}
        print(f'{name}: epoch {epoch[0]:.2f} s, eval {evaluation[0]:.2f} s', flush=True)
    base = results.get('lightgcn', {}).get('train_epoch_s', (None,))[0]
    lines = [f'Device: {device_name}; torch {torch.__version__}. Beauty LOO, d 128, 2 layers, '
             f'batch 2048; best (mean) of {args.repeats} epochs after a warm-up.', '',
             '| model | train epoch (s) | vs LightGCN | full evaluation (s) | parameters |',
             '| --- | --- | --- | --- | --- |']
    for name, r in results.items():
        ratio = f'{r["train_epoch_s"][0] / base:.2f}x' if base else '-'
        lines.append(f'| {name} | {r["train_epoch_s"][0]:.2f} ({r["train_epoch_s"][1]:.2f}) | '
                     f'{ratio} | {r["eval_s"][0]:.2f} ({r["eval_s"][1]:.2f}) | '
                     f'{r["parameters"]:,} |')
    print('\n'.join(lines))
    write_json(args.out, {'device': device_name, 'torch': torch.__version__,
                          'results': results, 'markdown': '\n'.join(lines)})


if __name__ == '__main__':
    main()
