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
"""
import os
from datetime import timedelta
from typing import Any, Tuple

import torch
import torch.distributed as dist
from torch import Tensor

from .errors import UserInputError


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
    if not dist.is_initialized():  # a rank that never arrives fails the others in 5 min
        dist.init_process_group('nccl' if use_cuda else 'gloo', timeout=timedelta(minutes=5))
    return rank, world, device


def rank_and_world() -> Tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_divides(batch_size: int, world: int) -> int:
    r"""Per-rank batch size; the global batch must split evenly over the ranks."""
    if batch_size % world:
        raise UserInputError(f'--batch-size {batch_size} is not divisible by the world size '
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


__all__ = ['launched_by_torchrun', 'setup', 'rank_and_world', 'check_divides', 'shard',
           'broadcast_flag', 'mean_over_ranks', 'LossModule', 'wrap']
