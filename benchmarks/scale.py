"""One training epoch on synthetic power-law graphs of growing size: time and peak memory.

Each size runs in a fresh process (so its peak RSS is its own): generate the graph
(:func:`~pyg_llminit.datasets.synthetic_graph`, random item vectors in place of text),
leave-one-out split, LLMInit-Var from the random vectors, then one epoch of LightGCN
(d 64, 2 layers; LLMInit-Var from 128-d random vectors) with the mini-batch loader
(``LinkNeighborLoader``, fan-out 10,5, batch 8192) or the full-graph loader. Reports edges
per second, the epoch time and the peak RSS; writes ``benchmarks/results/scale.json`` (or
``--out``) and prints a markdown table.

Usage::

    python benchmarks/scale.py --sizes 1000000,3000000,10000000 [--loader neighbor]
"""
import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / 'results'


def one(num_edges: int, loader: str, batch_size: int, fanout: str,
        max_steps: int = 0) -> dict:
    from pyg_llminit.datasets import synthetic_graph
    from pyg_llminit.models import LightGCN
    from pyg_llminit.training import TrainConfig, Trainer
    from pyg_llminit.training.allocator import retain_freed_memory
    from pyg_llminit.transforms import LLMInit
    from pyg_llminit.transforms.split import LeaveOneOutSplit
    retain_freed_memory()  # as the CLI's train command
    times = {}
    start = time.perf_counter()
    data = synthetic_graph(num_edges, embedding_dim=128)
    times['generate_s'] = time.perf_counter() - start
    start = time.perf_counter()
    train, val, test = LeaveOneOutSplit()(data)
    times['split_s'] = time.perf_counter() - start
    start = time.perf_counter()
    train = LLMInit(data['item'].text_embedding, dim=64, strategy='variance')(train)
    model = LightGCN(data['user'].num_nodes, data['item'].num_nodes, 64, 2)
    model.init_from_x(train['user'].x, train['item'].x)
    config = TrainConfig(batch_size=batch_size, loader=loader,
                         fanout=tuple(int(f) for f in fanout.split(',')))
    trainer = Trainer(model, train, val, test, config, log=lambda s: None)
    times['setup_s'] = time.perf_counter() - start
    start = time.perf_counter()
    loss = trainer.train_epoch(1, max_steps=max_steps or None)
    seconds = time.perf_counter() - start
    edges = trainer.train_index.size(1)
    steps_per_epoch = -(-edges // batch_size)
    steps = min(max_steps or len(trainer.batches), len(trainer.batches))  # steps it ran
    measured = min(steps * batch_size, edges)  # seed edges actually trained on
    return {'edges': int(data['user', 'rates', 'item'].num_edges), 'train_edges': int(edges),
            'users': data['user'].num_nodes, 'items': data['item'].num_nodes,
            'steps': steps, 'steps_per_epoch': steps_per_epoch,
            'full_epoch': steps >= steps_per_epoch, 'measured_s': seconds,
            'epoch_s': seconds * steps_per_epoch / steps,
            'edges_per_s': measured / seconds, 'loss': loss,
            'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20,
            'loader': loader, 'batch_size': batch_size, 'fanout': fanout, **times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='1000000,3000000,10000000')
    parser.add_argument('--loader', default='neighbor')
    parser.add_argument('--batch-size', type=int, default=8192)
    parser.add_argument('--fanout', default='10,5')
    parser.add_argument('--max-steps', type=int, default=0,
                        help='stop each epoch after this many steps (0: whole epoch); the '
                        'epoch time is then projected from the measured steps')
    parser.add_argument('--one', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--out', default=str(RESULTS / 'scale.json'))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.loader, args.batch_size, args.fanout,
                             args.max_steps)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(',')):
        proc = subprocess.run([sys.executable, __file__, '--one', str(size), '--loader',
                               args.loader, '--batch-size', str(args.batch_size),
                               '--fanout', args.fanout, '--max-steps', str(args.max_steps)],
                              capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f'size {size} failed: {proc.stderr.strip().splitlines()[-1]}')
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    import torch
    machine = (f'{platform.processor() or platform.machine()}, {torch.get_num_threads()} '
               f'threads, torch {torch.__version__}')
    lines = [f'Machine: {machine}. LightGCN d 64 (LLMInit-Var from random 128-d item vectors), '
             f'2 layers, loader {args.loader}, batch {args.batch_size}, fan-out {args.fanout}.',
             '', '| edges | users | items | steps run / epoch | epoch (s) | edges/s | '
             'peak RSS (GB) | generate + split + setup (s) |',
             '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        epoch = f'{r["epoch_s"]:.0f}' + ('' if r['full_epoch'] else ' (projected)')
        lines.append(f'| {r["edges"]:,} | {r["users"]:,} | {r["items"]:,} | '
                     f'{r["steps"]} / {r["steps_per_epoch"]} | {epoch} '
                     f'| {r["edges_per_s"]:,.0f} | {r["peak_rss_gb"]:.2f} | '
                     f'{r["generate_s"] + r["split_s"] + r["setup_s"]:.0f} |')
    print('\n'.join(lines))
    from pyg_llminit.io import write_json
    write_json(args.out, {'machine': machine, 'rows': rows, 'markdown': '\n'.join(lines)})


if __name__ == '__main__':
    main()
