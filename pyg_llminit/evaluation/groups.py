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


__all__ = ['check_group_edges', 'degree_groups']
