"""Negative sampling for BPR: items the user has not interacted with in training."""
import torch
from torch import Tensor

from ..errors import UserInputError


class NegativeSampler:
    r"""Draws, for each user, uniform items outside the user's training items.

    Known pairs are looked up in a sorted array of keys ``user * num_items + item`` by
    binary search; collisions are re-drawn until none is left (few rounds: Beauty users hold
    under 0.1% of the catalogue), so a negative is never a training positive.

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs, shape ``[2, E]``.
        num_items (int): Number of items.
    """
    def __init__(self, train_index: Tensor, num_items: int) -> None:
        self.num_items = num_items
        self.keys = torch.sort(train_index[0] * num_items + train_index[1]).values
        degree = torch.bincount(train_index[0])
        if degree.numel() and int(degree.max()) >= num_items:
            raise UserInputError('a user has interacted with every item in training: no '
                                 'negative item exists for BPR')

    def is_known(self, user: Tensor, item: Tensor) -> Tensor:
        key = user * self.num_items + item
        pos = torch.searchsorted(self.keys, key).clamp_(max=self.keys.numel() - 1)
        return self.keys[pos] == key

    def sample(self, user: Tensor, generator: torch.Generator = None) -> Tensor:
        r"""One negative item per entry of :obj:`user` ``[B]`` -> ``[B]``."""
        neg = torch.randint(self.num_items, user.shape, generator=generator)
        bad = self.is_known(user, neg).nonzero().view(-1)
        while bad.numel():
            neg[bad] = torch.randint(self.num_items, bad.shape, generator=generator)
            bad = bad[self.is_known(user[bad], neg[bad])]
        return neg
