"""Groups of users by number of training interactions: LLMInit's largest gains are
reported for sparse users (arXiv 2503.01814), so metrics are also averaged per group."""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from ..errors import invalid


def check_group_edges(edges: Sequence[int]) -> List[int]:
    r"""The edges of :func:`degree_groups` as a list; raises a :class:`UserInputError`
    unless they are increasing positive integers."""
    edges = list(edges)
    if not edges or min(edges) < 1 or edges != sorted(set(edges)):
        raise invalid('user_groups', 'must be increasing positive integers, got '
                      f'{",".join(map(str, edges))}')
    return edges


def degree_groups(train_index: Tensor, num_users: int, edges: Sequence[int] = (5, 10, 20)
                  ) -> Tuple[Tensor, List[str]]:
    r"""Buckets users by their number of training interactions: edges ``(5, 10, 20)`` give
    the groups ``<=5``, ``6-10``, ``11-20`` and ``>20``.

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs, ``[2, E]``.
        num_users (int): Number of users.
        edges (Sequence[int]): Increasing upper bounds (inclusive) of all but the last group.

    Returns:
        ``(group, names)``: the group id of every user ``[num_users]`` and the group names.
    """
    edges = check_group_edges(edges)
    degree = torch.bincount(train_index[0], minlength=num_users)
    group = torch.bucketize(degree, torch.tensor(edges, dtype=degree.dtype))
    names = [f'<={edges[0]}']
    names += [f'{lo + 1}-{hi}' if hi > lo + 1 else str(hi) for lo, hi in zip(edges, edges[1:])]
    return group, names + [f'>{edges[-1]}']


def check_item_shares(shares: Sequence[float]) -> List[float]:
    r"""The shares of :func:`item_popularity_groups` as a list; raises a
    :class:`UserInputError` unless they increase strictly inside ``(0, 1)``."""
    shares = [float(s) for s in shares]
    if len(shares) != 2 or not 0 < shares[0] < shares[1] < 1:
        raise invalid('item_groups', 'takes two increasing shares of the items in (0, 1), '
                      f'e.g. 0.2,0.5; got {",".join(map(str, shares))}')
    return shares


def item_popularity_groups(train_index: Tensor, num_items: int,
                           shares: Sequence[float] = (0.2, 0.5)) -> Tuple[Tensor, List[str]]:
    r"""Buckets items by training degree into head, torso and tail: with shares
    ``(0.2, 0.5)`` the 20% most interacted-with items are the head, the next 30% the
    torso and the other 50% the tail (degree ties: lower item id first).

    Returns:
        ``(group, names)``: the group id of every item ``[num_items]`` and the names,
        e.g. ``['head (top 20%)', 'torso (20-50%)', 'tail (50-100%)']``.
    """
    low, high = check_item_shares(shares)
    degree = torch.bincount(train_index[1], minlength=num_items)
    order = torch.sort(-degree, stable=True).indices
    rank = torch.empty_like(order)
    rank[order] = torch.arange(num_items)
    cut = torch.tensor([round(low * num_items), round(high * num_items)])
    group = torch.bucketize(rank, cut, right=True)
    pct = lambda x: f'{100 * x:g}%'  # noqa: E731
    return group, [f'head (top {pct(low)})', f'torso ({pct(low)[:-1]}-{pct(high)})',
                   f'tail ({pct(high)[:-1]}-100%)']


__all__ = ['check_group_edges', 'degree_groups', 'check_item_shares',
           'item_popularity_groups']
