"""Synthetic bipartite interaction graphs with power-law degrees, at any size.

For scale tests and benchmarks: users and items draw their interactions from Zipf-like
popularity (:math:`p_r \\propto (r + 1)^{-a}` over a random order of the ids), every user
has at least :obj:`min_user_degree` distinct items (so leave-one-out splits have training
data), duplicates are removed, and random item vectors stand in for text embeddings.
"""
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..errors import UserInputError
from .graph import EDGE_TYPE, ITEM, REV_EDGE_TYPE, USER


def _zipf(num: int, exponent: float, count: int, generator: torch.Generator) -> Tensor:
    r""":obj:`count` ids in ``0..num-1`` with Zipf popularity over a random id order."""
    weight = torch.arange(1, num + 1, dtype=torch.float64).pow(-exponent)
    cdf = torch.cumsum(weight, 0)
    draws = torch.rand(count, generator=generator, dtype=torch.float64) * cdf[-1]
    rank = torch.searchsorted(cdf, draws).clamp_(max=num - 1)
    return torch.randperm(num, generator=generator)[rank]


def _distinct_per_row(rows: int, k: int, n: int, gen: torch.Generator) -> torch.Tensor:
    r"""``[rows, k]`` draws from ``range(n)`` (``n > k``), distinct within each row: rows
    with a repeat are drawn again (few rounds, as a repeat is rare for ``k << n``), without
    the ``[rows, n]`` table a permutation per row would need."""
    draws = torch.randint(n, (rows, k), generator=gen)
    while True:
        ordered = draws.sort(dim=1).values
        repeat = (ordered[:, 1:] == ordered[:, :-1]).any(dim=1)
        if not bool(repeat.any()):
            return draws
        draws[repeat] = torch.randint(n, (int(repeat.sum()), k), generator=gen)


def synthetic_graph(num_edges: int, num_users: Optional[int] = None,
                    num_items: Optional[int] = None, exponent: float = 0.8,
                    min_user_degree: int = 3, embedding_dim: int = 64,
                    seed: int = 0) -> HeteroData:
    r"""A random user-item graph of about :obj:`num_edges` interactions.

    Args:
        num_edges (int): Interactions to draw (duplicates removed, so slightly fewer stay).
        num_users (int, optional): Default ``num_edges // 10`` (Beauty has about 9 per user).
        num_items (int, optional): Default ``num_edges // 20``.
        exponent (float): Zipf exponent of user activity and item popularity.
        min_user_degree (int): Items every user gets first, uniformly at random.
        embedding_dim (int): Width of the random stand-in text embeddings
            ``data['item'].text_embedding`` ``[num_items, embedding_dim]``.
        seed (int): Seed of everything.

    Returns:
        :class:`HeteroData` with the package's edge types and ``time`` = draw order.
    """
    num_users = num_users or max(num_edges // 10, 1)
    num_items = num_items or max(num_edges // 20, 1)
    if num_users * min_user_degree > num_edges or num_items <= min_user_degree:
        raise UserInputError(f'cannot draw {num_edges} edges with {num_users} users of at '
                             f'least {min_user_degree} over {num_items} items')
    gen = torch.Generator().manual_seed(seed)
    base_user = torch.arange(num_users).repeat_interleave(min_user_degree)
    base_item = _distinct_per_row(num_users, min_user_degree, num_items, gen).view(-1)
    rest = num_edges - base_user.numel()
    user = torch.cat([base_user, _zipf(num_users, exponent, rest, gen)])
    item = torch.cat([base_item, _zipf(num_items, exponent, rest, gen)])
    key, first = torch.unique(user * num_items + item, return_inverse=True)
    # keep each pair's first draw, in draw order (the order doubles as time)
    order = torch.full((key.numel(),), user.numel(), dtype=torch.long)
    order.scatter_reduce_(0, first, torch.arange(user.numel()), reduce='amin')
    order = order.sort().values
    edge_index = torch.stack([user[order], item[order]])
    data = HeteroData()
    data[USER].num_nodes, data[ITEM].num_nodes = num_users, num_items
    data[EDGE_TYPE].edge_index = edge_index
    data[EDGE_TYPE].time = torch.arange(edge_index.size(1))
    data[REV_EDGE_TYPE].edge_index = edge_index.flip(0)
    data[ITEM].text_embedding = torch.randn(num_items, embedding_dim, generator=gen)
    return data


__all__ = ['synthetic_graph']
