"""Negative sampling for BPR: items the user has not interacted with in training, or (as
RecBole's ``RepeatableSampler``, which the LLMInit authors' configuration selects) any item
but the positive of the triplet."""
from typing import Optional

import torch
from torch import Tensor

from ..errors import UserInputError


#: What a negative must not be: one of the user's training items (``'seen'``) or only the
#: triplet's positive (``'positive'``, RecBole's repeatable sampling).
EXCLUDES = ('seen', 'positive')


class NegativeSampler:
    r"""Draws, for each user, uniform items outside the user's training items
    (``exclude='seen'``) or other than the triplet's positive (``exclude='positive'``).

    Known pairs are looked up in a sorted array of keys ``user * num_items + item`` by
    binary search; collisions are re-drawn until none is left (few rounds: Beauty users hold
    under 0.1% of the catalogue), so a negative is never a training positive.

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs, shape ``[2, E]``.
        num_items (int): Number of items.
        exclude (str): ``'seen'`` or ``'positive'`` (see above). (default: :obj:`'seen'`)
        items (Tensor, optional): The items negatives are drawn from ``[P]`` (default:
            all): a cold-item split keeps its held-out items out of training entirely.
    """
    def __init__(self, train_index: Tensor, num_items: int, exclude: str = 'seen',
                 items: Optional[Tensor] = None) -> None:
        if exclude not in EXCLUDES:
            raise UserInputError(f"negatives must exclude one of {', '.join(EXCLUDES)}, "
                                 f"got '{exclude}'", param='negatives')
        if exclude == 'positive' and num_items < 2:
            raise UserInputError('one item only: no negative item exists for BPR')
        self.num_items, self.exclude, self.items = num_items, exclude, items
        self.allowed = None  # for negatives drawn elsewhere (LinkNeighborLoader)
        if items is not None:
            self.allowed = torch.zeros(num_items, dtype=torch.bool)
            self.allowed[items] = True
        self.keys = torch.sort(train_index[0] * num_items + train_index[1]).values
        degree = torch.bincount(train_index[0])
        if degree.numel() and int(degree.max()) >= self.pool_size:
            raise UserInputError('a user has interacted with every item in training: no '
                                 'negative item exists for BPR')

    def is_known(self, user: Tensor, item: Tensor) -> Tensor:
        key = user * self.num_items + item
        pos = torch.searchsorted(self.keys, key).clamp_(max=self.keys.numel() - 1)
        return self.keys[pos] == key

    def rejects(self, user: Tensor, pos: Optional[Tensor], neg: Tensor) -> Tensor:
        r"""Which triplets' negatives break :obj:`exclude` or lie outside the items
        negatives are drawn from ``[B]``."""
        bad = self.is_known(user, neg) if self.exclude == 'seen' else neg == pos
        return bad if self.allowed is None else bad | ~self.allowed[neg]

    def sample(self, user: Tensor, generator: torch.Generator = None,
               pos: Optional[Tensor] = None) -> Tensor:
        r"""One negative item per entry of :obj:`user` ``[B]`` -> ``[B]``; with
        ``exclude='positive'`` the triplets' positives :obj:`pos` ``[B]`` are needed."""
        if self.exclude == 'positive' and pos is None:
            raise ValueError("NegativeSampler(exclude='positive').sample needs pos")
        neg = self._draw(user.shape, generator)
        bad = self.rejects(user, pos, neg).nonzero().view(-1)
        while bad.numel():
            neg[bad] = self._draw(bad.shape, generator)
            bad = bad[self.rejects(user[bad], None if pos is None else pos[bad], neg[bad])]
        return neg

    @property
    def pool_size(self) -> int:
        return self.num_items if self.items is None else self.items.numel()

    def _draw(self, shape: torch.Size, generator: Optional[torch.Generator]) -> Tensor:
        index = torch.randint(self.pool_size, shape, generator=generator)
        return index if self.items is None else self.items[index]
