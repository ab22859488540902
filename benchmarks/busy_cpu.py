"""Times LightGCN training steps and one validation on Beauty while another process keeps
one core busy, under several OpenMP thread settings, against the same settings on an idle
machine, in the same run.

PyTorch's OpenMP threads spin while they wait for each other; when one of them shares its
core with another process, the others wait for it. This shows what that costs on a small
machine and which setting helps (``OMP_NUM_THREADS``, ``GOMP_SPINCOUNT``).

Each setting runs in a fresh process (OpenMP reads its environment once, at start-up); the
busy process is a Python busy loop. Settings alternate, ``--repeats`` times each.

Usage::

    python benchmarks/busy_cpu.py [--steps 40] [--repeats 2]

Prints a markdown table: per setting, the threads torch used, the median step (ms) over the
timed blocks and the validation (s), idle and busy.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

SETTINGS = {
    'default': {},
    'GOMP_SPINCOUNT=3000': {'GOMP_SPINCOUNT': '3000'},
    'OMP_WAIT_POLICY=PASSIVE': {'OMP_WAIT_POLICY': 'PASSIVE'},
    'OMP_NUM_THREADS=1': {'OMP_NUM_THREADS': '1'},
}

WORKER = r'''
import json, sys, time, torch
from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.models import LightGCN
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.allocator import retain_freed_memory
from pyg_llminit.transforms.split import LeaveOneOutSplit
retain_freed_memory()  # as the CLI's train command
steps = int(sys.argv[1])
data = AmazonBeauty()[0]
train, val, test = LeaveOneOutSplit()(data)
model = LightGCN(data['user'].num_nodes, data['item'].num_nodes)
trainer = Trainer(model, train, val, test, TrainConfig(), log=lambda s: None)
trainer.train_epoch(max_steps=5)  # warm-up
blocks = []
for _ in range(3):
    t = time.perf_counter()
    trainer.train_epoch(max_steps=steps)
    blocks.append((time.perf_counter() - t) / steps * 1000)
t = time.perf_counter()
trainer.validate()
print(json.dumps({'step_ms': blocks, 'val_s': time.perf_counter() - t,
                  'threads': torch.get_num_threads()}))
'''


def run_worker(env_extra, steps):
    env = {**os.environ, **env_extra}
    out = subprocess.run([sys.executable, '-c', WORKER, str(steps)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=40, help='steps per timed block')
    parser.add_argument('--repeats', type=int, default=2, help='runs of each setting')
    args = parser.parse_args()

    results = {(name, busy): [] for busy in (False, True) for name in SETTINGS}
    for busy in (False, True):
        hog = (subprocess.Popen([sys.executable, '-c', 'while True: pass'])
               if busy else None)
        try:
            time.sleep(0.5)
            for _ in range(args.repeats):
                for name, extra in SETTINGS.items():
                    results[name, busy].append(run_worker(extra, args.steps))
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()

    print(f'machine: {platform.machine()}, {os.cpu_count()} cores, '
          f'CPython {platform.python_version()}; Beauty LightGCN, d=128, 2 layers, batch 2048; '
          f'{args.repeats} runs per setting, 3 blocks of {args.steps} steps each\n')
    print('| setting | threads | step idle (ms) | step, one core busy (ms) | validation idle (s) '
          '| validation, one core busy (s) |')
    print('| --- | --- | --- | --- | --- | --- |')
    for name in SETTINGS:
        cells = []
        for key in ('step_ms', 'val_s'):
            for busy in (False, True):
                runs = results[name, busy]
                values = [v for r in runs for v in (r[key] if key == 'step_ms' else [r[key]])]
                cells.append(f'{statistics.median(values):.1f}' if key == 'step_ms'
                             else f'{statistics.median(values):.2f}')
        threads = sorted({r['threads'] for busy in (False, True) for r in results[name, busy]})
        print(f'| {name} | {",".join(map(str, threads))} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
