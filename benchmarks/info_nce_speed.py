"""Times InfoNCE's forward and backward: autograd's ``F.cross_entropy`` form against the
package's fused :func:`~pyg_llminit.models.losses.info_nce`, at the shapes of one Beauty step.

Shapes (batch 2048, d 128): SGL's all-node negatives, the batch's users against all 22,363
users and its positive items against all 12,101 items; SimGCL's batch-only negatives,
about 2,000 unique users against themselves. Both forms run in the same process, alternated,
best of ``--repeats``; both must give the same loss (checked). Writes
``benchmarks/results/info_nce_speed.json`` (or ``--out``) and prints a markdown table.

Usage::

    python benchmarks/info_nce_speed.py [--repeats 5] [--device cuda]
"""
import argparse
import platform
import time
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_llminit.io import write_json
from pyg_llminit.models.losses import info_nce

RESULTS = Path(__file__).parent / 'results'
SHAPES = {'sgl users (all 22,363)': (2048, 22363), 'sgl items (all 12,101)': (2048, 12101),
          'simgcl batch users': (2000, 2000)}


def autograd_info_nce(view1: Tensor, view2: Tensor, tau: float,
                      target: Optional[Tensor] = None) -> Tensor:
    r"""The form the package used before: logits, then autograd's cross-entropy."""
    logits = F.normalize(view1, dim=-1) @ F.normalize(view2, dim=-1).t() / tau
    if target is None:
        target = torch.arange(logits.size(0), device=logits.device)
    return F.cross_entropy(logits, target)


def time_once(loss_fn, anchors: Tensor, candidates: Tensor, target: Optional[Tensor],
              device: str):
    start = time.perf_counter()
    loss = loss_fn(anchors, candidates, 0.2, target)
    loss.backward()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start, float(loss.detach())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', default=str(RESULTS / 'info_nce_speed.json'))
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    rows = []
    for name, (n, m) in SHAPES.items():
        anchors = torch.randn(n, 128, generator=generator).to(args.device).requires_grad_()
        candidates = torch.randn(m, 128, generator=generator).to(args.device).requires_grad_()
        target = (torch.randint(0, m, (n,), generator=generator).to(args.device)
                  if m != n else None)
        times = {'autograd': [], 'fused': []}
        losses = {}
        for _ in range(args.repeats + 1):  # the first round warms up
            for form, fn in (('autograd', autograd_info_nce), ('fused', info_nce)):
                seconds, losses[form] = time_once(fn, anchors, candidates, target, args.device)
                times[form].append(seconds)
        if abs(losses['autograd'] - losses['fused']) > 1e-4 * abs(losses['autograd']):
            raise SystemExit(f'error: the two forms disagree on {name}: {losses}')
        row = {'shape': name, 'anchors': n, 'candidates': m,
               'autograd_s': min(times['autograd'][1:]), 'fused_s': min(times['fused'][1:])}
        row['speed_up'] = row['autograd_s'] / row['fused_s']
        rows.append(row)
    machine = (torch.cuda.get_device_name() if args.device.startswith('cuda') else
               f'{platform.processor() or platform.machine()} CPU, '
               f'{torch.get_num_threads()} threads')
    write_json(args.out, {'machine': machine, 'torch': torch.__version__,
                          'repeats': args.repeats, 'rows': rows})
    print(f'InfoNCE forward + backward, d 128, tau 0.2, {machine}, best of {args.repeats}\n')
    print('| shape | anchors x candidates | autograd (s) | fused (s) | speed-up |')
    print('| --- | --- | --- | --- | --- |')
    for r in rows:
        print(f"| {r['shape']} | {r['anchors']:,} x {r['candidates']:,} | {r['autograd_s']:.3f} "
              f"| {r['fused_s']:.3f} | {r['speed_up']:.2f}x |")


if __name__ == '__main__':
    main()
