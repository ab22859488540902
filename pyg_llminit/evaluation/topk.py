"""Exact top-K items per user with known items masked: the one routine behind evaluation,
recommendation and the exact reference of approximate retrieval."""
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..console import progress_disabled

#: Maps user indices ``[B]`` to scores ``[B, num_items]``.
ScoreFn = Callable[[Tensor], Tensor]


class UserItems:
    r"""Items per user in CSR form (``rowptr``, ``col``), for fast gathering by user chunk.

    Args:
        index (Tensor): ``(user, item)`` pairs, ``[2, E]``.
        num_users (int): Number of users.
    """
    def __init__(self, index: Tensor, num_users: int) -> None:
        user, item = index
        perm = torch.sort(user, stable=True).indices
        self.col = item[perm]
        count = torch.bincount(user, minlength=num_users)
        self.rowptr = torch.cat([count.new_zeros(1), torch.cumsum(count, 0)])

    def gather(self, users: Tensor) -> Tensor:
        r"""``[2, n]`` pairs (row in :obj:`users`, item) for the given users."""
        start, end = self.rowptr[users], self.rowptr[users + 1]
        count = end - start
        row = torch.repeat_interleave(torch.arange(users.numel()), count)
        offset = torch.arange(int(count.sum())) - torch.repeat_interleave(
            torch.cumsum(count, 0) - count, count)
        return torch.stack([row, self.col[start[row] + offset]])


def top_k_unseen(scores: Tensor, users: Tensor, exclude: UserItems, k: int
                 ) -> Tuple[Tensor, Tensor]:
    r"""``(values, indices)`` ``[B, k]`` of the best :obj:`scores` ``[B, I]`` of
    :obj:`users` ``[B]``, each user's :obj:`exclude` items masked to ``-inf`` (in place)."""
    row, col = exclude.gather(users.cpu()).to(scores.device)
    scores[row, col] = float('-inf')
    return scores.topk(k, dim=1)


@torch.no_grad()
def ranked_lists(score_fn: ScoreFn, users: Tensor, exclude: UserItems, k: int,
                 batch_size: int = 1024, device: Optional[torch.device] = None,
                 progress: bool = False) -> Tuple[Tensor, Tensor]:
    r"""The top-:obj:`k` items of each user, :obj:`exclude` items never listed.

    Args:
        score_fn (callable): Users ``[B]`` -> scores ``[B, I]``.
        users (Tensor): User indices ``[U]``.
        exclude (UserItems): Items never listed, per user.
        k (int): List length, at most the number of items.
        batch_size (int): Users scored at once.
        device (torch.device, optional): Where user chunks go before :obj:`score_fn`.
        progress (bool): Show a progress bar over the chunks.

    Returns:
        ``(items, scores)``, both ``[U, k]`` on the CPU, best first; where a user has fewer
        than :obj:`k` items left, the tail has item ``-1`` and score ``-inf``.
    """
    items, scores = [], []
    for start in tqdm(range(0, users.numel(), batch_size), desc='ranking', unit='batch',
                      disable=progress_disabled(progress), leave=False):
        chunk = users[start:start + batch_size]
        values, top = top_k_unseen(score_fn(chunk.to(device) if device else chunk).float(),
                                   chunk, exclude, k)
        items.append(top.masked_fill(values == float('-inf'), -1).cpu())
        scores.append(values.cpu())
    return torch.cat(items), torch.cat(scores)


__all__ = ['ScoreFn', 'UserItems', 'top_k_unseen', 'ranked_lists']
