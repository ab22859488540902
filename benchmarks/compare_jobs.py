"""Wall time of one ``pyg-llminit compare`` run with ``--jobs 1`` (one training after
another, each using every CPU thread) against ``--jobs N`` (N trainings at once, each with
cpu_count/N threads), in the same run, on the same arms and seeds.

Every training runs a fixed number of epochs (``--epochs``, with the warm-up set to the same
number so that early stopping cannot end one sooner than another), so both settings do the
same work. The item texts are encoded once before the clock starts (the encoder's cache), so
only training and evaluation are timed. Each setting writes into a fresh temporary folder.

Usage::

    python benchmarks/compare_jobs.py [--epochs 15] [--jobs 2] [--out results/compare_jobs.json]

Prints a markdown table and writes the JSON (wall seconds per setting, ratio, machine).
"""
import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from pyg_llminit.experiment import ExperimentConfig, compare, prepare
from pyg_llminit.text import encode_items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--graph', default='amazon')
    parser.add_argument('--models', default='lightgcn')
    parser.add_argument('--inits', default='none,variance')
    parser.add_argument('--seeds', default='2020,2021')
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--out', default=str(Path(__file__).parent / 'results' /
                                             'compare_jobs.json'))
    args = parser.parse_args()
    config = ExperimentConfig(graph=args.graph)
    config = dataclasses.replace(config, train=dataclasses.replace(
        config.train, epochs=args.epochs, warmup=args.epochs))
    models, inits = args.models.split(','), args.inits.split(',')
    seeds = [int(s) for s in args.seeds.split(',')]
    embedding = encode_items(prepare(config, features=False).train, config.encoder)

    walls = {}
    for jobs in (1, args.jobs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            compare(config, models, inits, seeds, Path(tmp) / 'cmp', jobs=jobs,
                    embedding=embedding, log=lambda line: None)
            walls[jobs] = time.perf_counter() - start
        print(f'--jobs {jobs}: {walls[jobs]:.1f} s', flush=True)

    trainings = len(models) * len(inits) * len(seeds)
    result = {
        'graph': args.graph, 'models': models, 'inits': inits, 'seeds': seeds,
        'epochs': args.epochs, 'trainings': trainings,
        'wall_seconds': {f'jobs={k}': round(v, 1) for k, v in walls.items()},
        'speedup': round(walls[1] / walls[args.jobs], 2),
        'machine': f'{platform.machine()} CPU, {os.cpu_count()} cores, torch '
                   f'{torch.__version__}, {torch.get_num_threads()} threads',
        'date': time.strftime('%Y-%m-%d'),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')
    print(f'\n{trainings} trainings of {args.epochs} epochs on {args.graph}\n')
    print('| setting | wall (s) |\n| --- | --- |')
    for jobs, wall in walls.items():
        print(f'| --jobs {jobs} | {wall:.1f} |')
    print(f'\n--jobs {args.jobs} is {result["speedup"]}x as fast as --jobs 1; '
          f'{result["machine"]}')


if __name__ == '__main__':
    main()
