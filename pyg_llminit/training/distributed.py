"""Multi-process data-parallel training with ``torch.distributed`` and DDP.

Started by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ...), the same
CLI trains on every process: each rank takes its shard of the training interactions (a
shared shuffled permutation split by rank, so shards never overlap), computes the loss on
``batch_size / world_size`` of them per step, and DDP averages the gradients, so every rank
holds identical parameters after every step; validation, early stopping, checkpoints and
result files happen on rank 0, whose stop decision is broadcast. Backend: ``gloo`` on CPU,
``nccl`` on CUDA (one GPU per rank, ``cuda:LOCAL_RANK``).

Several GPUs on one host::

    torchrun --nproc-per-node 4 -m pyg_llminit train --graph amazon --device cuda

Several hosts (run on each, with its own ``--node-rank``)::

    torchrun --nnodes 2 --node-rank 0 --nproc-per-node 8 --master-addr HOST0 \\
        --master-port 29500 -m pyg_llminit train --graph amazon --device cuda

Rank 0 prepares the data first (processed graph, item embeddings) while the others wait;
they then read its caches instead of encoding the same texts again. Ranks also wait while
rank 0 validates. Waits are bounded by ``$PYG_LLMINIT_DIST_TIMEOUT`` minutes (default 60;
raise it, or run ``pyg-llminit embed`` first, for catalogues that take longer to encode).
A rank that dies is noticed by torchrun, which stops the others at once.
"""
import os
import sys
from datetime import timedelta
from typing import Any, Callable, Tuple, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor

from ..errors import UserInputError, invalid

T = TypeVar('T')


def launched_by_torchrun() -> bool:
    return int(os.environ.get('WORLD_SIZE', '1')) > 1


def setup(device: str) -> Tuple[int, int, str]:
    r"""Joins the process group torchrun describes; returns ``(rank, world_size, device)``
    (``'cuda'`` becomes this rank's ``cuda:LOCAL_RANK``)."""
    rank, world = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
    use_cuda = device.startswith('cuda') or (device == 'auto' and torch.cuda.is_available())
    if use_cuda:
        local = int(os.environ.get('LOCAL_RANK', rank))
        if torch.cuda.device_count() <= local:
            raise UserInputError(f'rank {rank} needs GPU {local}, but this host has '
                                 f'{torch.cuda.device_count()}')
        device = f'cuda:{local}'
        torch.cuda.set_device(local)
    elif device == 'auto':
        device = 'cpu'
    if not dist.is_initialized():
        dist.init_process_group('nccl' if use_cuda else 'gloo', timeout=collective_timeout())
    return rank, world, device


def collective_timeout() -> timedelta:
    r"""How long a rank waits for the others: ``$PYG_LLMINIT_DIST_TIMEOUT`` minutes, default
    60 (rank 0 may encode a catalogue or validate while the others wait)."""
    raw = os.environ.get('PYG_LLMINIT_DIST_TIMEOUT', '60')
    try:
        minutes = float(raw)
    except ValueError:
        minutes = -1.0
    if not minutes > 0:
        raise UserInputError(f'PYG_LLMINIT_DIST_TIMEOUT must be a positive number of minutes, '
                             f'got {raw!r}')
    return timedelta(minutes=minutes)


def rank_zero_first(prepare: Callable[[], T], device: str) -> T:
    r"""Runs ``prepare`` on rank 0, then on the other ranks, which then find the caches rank 0
    wrote (processed graph, item embeddings) instead of building them concurrently. If rank 0
    fails, every rank stops with an error. Without a process group, just ``prepare()``."""
    rank, world = rank_and_world()
    if world == 1:
        return prepare()
    if rank == 0:
        try:
            result = prepare()
        except BaseException:
            broadcast_flag(False, torch.device(device))
            raise
        broadcast_flag(True, torch.device(device))
        return result
    if not broadcast_flag(False, torch.device(device)):
        raise UserInputError('rank 0 failed while preparing the data (its error is above)')
    return prepare()


def exit_rank(code: int) -> None:
    r"""Ends this rank's process: leaves the process group, flushes output, and exits
    without interpreter teardown. Teardown can deadlock in torch 2.13: freeing the DDP
    reducer destroys the gloo group, whose destructor joins a worker thread that waits for
    the GIL the destructor holds (seen as a finished rank that never exits)."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - a broken group has nothing left to free
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def rank_and_world() -> Tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_divides(batch_size: int, world: int) -> int:
    r"""Per-rank batch size; the global batch must split evenly over the ranks."""
    if batch_size % world:
        raise invalid('batch_size', f'{batch_size} is not divisible by the world size '
                      f'{world}: each rank takes batch_size / world_size')
    return batch_size // world


def shard(perm: Tensor, rank: int, world: int) -> Tensor:
    r"""This rank's equal-sized part of a shared permutation (the last ``len % world``
    entries sit this epoch out, so every rank runs the same number of steps)."""
    usable = perm.numel() - perm.numel() % world
    return perm[rank:usable:world]


def broadcast_flag(flag: bool, device: torch.device) -> bool:
    r"""Rank 0's ``flag`` on every rank."""
    t = torch.tensor([int(flag)], device=device)
    dist.broadcast(t, 0)
    return bool(t.item())


def mean_over_ranks(value: float, device: torch.device) -> float:
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


class LossModule(torch.nn.Module):
    r"""Calls :meth:`Recommender.loss` through ``forward``, so DDP can wrap it (DDP
    synchronises the gradients of what runs inside its ``forward``)."""
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: Any) -> Any:
        return self.model.loss(*args)


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    from torch.nn.parallel import DistributedDataParallel
    ids = [device.index] if device.type == 'cuda' else None
    return DistributedDataParallel(LossModule(model), device_ids=ids)


__all__ = ['launched_by_torchrun', 'setup', 'collective_timeout', 'rank_zero_first',
           'exit_rank', 'rank_and_world', 'check_divides', 'shard', 'broadcast_flag',
           'mean_over_ranks', 'LossModule', 'wrap']
