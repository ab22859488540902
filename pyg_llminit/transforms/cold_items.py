"""Item cold start: a split that holds out whole items, with all their interactions.

A recommender meets items that arrived after it was trained. :class:`ColdItemSplit` builds
that case from any interaction graph: a share of the items never appears in training; the
interactions of half of them are the validation set, those of the other half the test set
(split by item, so no test item is seen in validation either). Every item keeps its node
and its text, so an item id means the same item in all three graphs.
"""
from typing import Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from ..datasets.graph import EDGE_TYPE
from ..errors import UserInputError
from .split import _check_graph, make_split_data

DROPPED = 3  # a split id that make_split_data never uses: in no split at all


class ColdItemSplit(BaseTransform):
    r"""Holds out :obj:`ratio` of the items that have interactions, with all of them.

    Returns ``(train, val, test)`` as PyG's :class:`~torch_geometric.transforms.RandomLinkSplit`
    does (see :mod:`~pyg_llminit.transforms.split`): the training graph holds the
    interactions of the warm items only; ``val``'s ``edge_label_index`` holds the
    interactions of the first half of the cold items, ``test``'s those of the second half.
    An interaction of a user who has no training interaction left is dropped (that is a
    cold user as well, outside this protocol). All three graphs carry
    ``cold_val_items`` and ``cold_test_items`` (item indices, ``[C_val]`` and ``[C_test]``).

    Args:
        ratio (float): Share of the items with interactions held out, in ``(0, 0.5]``.
            (default: :obj:`0.1`)
        seed (int): Seed of the choice of items. (default: :obj:`2020`)
    """
    def __init__(self, ratio: float = 0.1, seed: int = 2020) -> None:
        ratio = float(ratio)
        if not 0 < ratio <= 0.5:
            raise UserInputError(f'the cold-item ratio must lie in (0, 0.5], got {ratio:g}',
                                 param='split')
        self.ratio, self.seed = ratio, seed

    def choose(self, item: Tensor, num_items: int) -> Tuple[Tensor, Tensor]:
        r"""The validation and test cold items, sorted, from the items of :obj:`item`."""
        active = torch.unique(item)
        count = round(self.ratio * active.numel())
        if count < 2:
            raise UserInputError(f'a cold-item ratio of {self.ratio:g} of '
                                 f'{active.numel()} items holds out {count}: at least 2 '
                                 'are needed (one for validation, one for test)',
                                 param='split')
        if count >= active.numel():
            raise UserInputError('the cold-item split leaves no item for training',
                                 param='split')
        perm = torch.randperm(active.numel(), generator=torch.Generator().manual_seed(
            self.seed))
        cold = active[perm[:count]]
        return cold[:count // 2].sort().values, cold[count // 2:].sort().values

    def forward(self, data: HeteroData) -> Tuple[HeteroData, HeteroData, HeteroData]:
        _check_graph(data)
        user, item = data[EDGE_TYPE].edge_index
        num_items = data['item'].num_nodes
        val_items, test_items = self.choose(item, num_items)
        split_of_item = torch.zeros(num_items, dtype=torch.long)
        split_of_item[val_items], split_of_item[test_items] = 1, 2
        split = split_of_item[item]
        has_train = torch.zeros(data['user'].num_nodes, dtype=torch.bool)
        has_train[user[split == 0]] = True
        split[(split > 0) & ~has_train[user]] = DROPPED
        parts = make_split_data(data, split)
        for part in parts:
            part.cold_val_items, part.cold_test_items = val_items, test_items
        return parts

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(ratio={self.ratio:g}, seed={self.seed})'


def cold_items(data: HeteroData) -> Tensor:
    r"""Every held-out item of a :class:`ColdItemSplit` graph ``[C]`` (empty for other
    splits)."""
    if 'cold_val_items' not in data:
        return torch.empty(0, dtype=torch.long)
    return torch.cat([data.cold_val_items, data.cold_test_items])


def is_cold_split(data: HeteroData) -> bool:
    r"""Whether :obj:`data` comes from a :class:`ColdItemSplit`."""
    return 'cold_val_items' in data
