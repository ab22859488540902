"""Splits of a bipartite interaction graph: per user (leave-one-out, ratios) and by item
(cold items).

Both follow PyG's :class:`~torch_geometric.transforms.RandomLinkSplit` convention: calling the
transform returns ``(train_data, val_data, test_data)``. In all three, the message-passing
edges (``edge_index`` of both edge types) are the TRAINING interactions only; each split's
own interactions are in ``data['user', 'rates', 'item'].edge_label_index``. Validation and test
interactions therefore never take part in training propagation, user pooling or degrees.

Item cold start. A recommender meets items that arrived after it was trained.
:class:`ColdItemSplit` builds that case from any interaction graph: a share of the items
never appears in training; the interactions of half of them are the validation set, those
of the other half the test set (split by item, so no test item is seen in validation
either). Every item keeps its node
and its text, so an item id means the same item in all three graphs.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from ..datasets.graph import EDGE_TYPE, REV_EDGE_TYPE
from ..catalog import ORDERS
from ..errors import DataError, UserInputError



def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise UserInputError(f"unknown split order '{order}' (choose from {', '.join(ORDERS)})")


def rank_within_user(user: Tensor, time: Optional[Tensor], order: str = 'time',
                     seed: int = 2020) -> Tuple[Tensor, Tensor]:
    r"""Position of each interaction in its user's history, and the user's degree.

    Args:
        user (Tensor): User index per interaction, shape ``[E]``.
        time (Tensor, optional): Time or order per interaction, shape ``[E]``.
        order (str): ``'time'`` (ties broken by edge position) or ``'random'`` (a random
            order per user, reproducible from :obj:`seed`: the authors' variant).
        seed (int): Seed of the random order.

    Returns:
        ``(rank, degree)``, both of shape ``[E]``: rank ``0`` is the oldest interaction.
    """
    _check_order(order)
    num = user.numel()
    if order == 'random':
        perm = torch.randperm(num, generator=torch.Generator().manual_seed(seed))
    elif time is None:
        perm = torch.arange(num)
    else:
        perm = torch.sort(time, stable=True).indices  # by time, ties by edge position
    perm = perm[torch.sort(user[perm], stable=True).indices]  # then grouped by user
    degree = torch.bincount(user, minlength=int(user.max()) + 1 if num else 0)
    start = torch.cumsum(degree, 0) - degree
    rank = torch.empty(num, dtype=torch.long)
    rank[perm] = torch.arange(num) - start[user[perm]]
    return rank, degree[user]


def _check_graph(data: HeteroData) -> None:
    if EDGE_TYPE not in data.edge_types or data[EDGE_TYPE].num_edges == 0:
        raise DataError('the graph has no user-item interactions')


def make_split_data(data: HeteroData, split_of_edge: Tensor) -> Tuple[HeteroData, ...]:
    r"""Builds ``(train, val, test)`` graphs from a split id per edge (0 train, 1 val, 2 test).

    Edge attributes (``time``, ``rating``) follow their edges; every split keeps the
    training edges as ``edge_index`` and gets its own edges as ``edge_label_index`` (plus
    ``edge_label_time`` where times exist).
    """
    store = data[EDGE_TYPE]
    train_mask = split_of_edge == 0
    out: List[HeteroData] = []
    for split_id in range(3):
        part = data.clone()
        part_store = part[EDGE_TYPE]
        for key, value in store.items():
            if isinstance(value, Tensor) and store.is_edge_attr(key):
                part_store[key] = (value[..., train_mask] if key == 'edge_index'
                                   else value[train_mask])
        mask = split_of_edge == split_id
        part_store.edge_label_index = store.edge_index[:, mask]
        if 'time' in store:
            part_store.edge_label_time = store.time[mask]
        part[REV_EDGE_TYPE].edge_index = part_store.edge_index.flip(0)
        out.append(part)
    return tuple(out)


class LeaveOneOutSplit(BaseTransform):
    r"""Leave-one-out split per user: the last interaction is the test item, the one before
    it the validation item, the rest is training (the protocol of LLMInit, arXiv 2503.01814,
    and of most CF papers). Users with two interactions give one to test; users with one
    keep it in training.

    Args:
        order (str): ``'time'`` (default; the order stored in ``time``) or ``'random'``
            (a random per-user order from :obj:`seed`, the LLMInit authors' setting).
        seed (int): Seed of the random order. (default: :obj:`2020`)
    """
    def __init__(self, order: str = 'time', seed: int = 2020) -> None:
        _check_order(order)
        self.order = order
        self.seed = seed

    def forward(self, data: HeteroData) -> Tuple[HeteroData, HeteroData, HeteroData]:
        _check_graph(data)
        store = data[EDGE_TYPE]
        rank, degree = rank_within_user(store.edge_index[0], store.get('time'), self.order,
                                        self.seed)
        split = torch.zeros_like(rank)
        split[(rank == degree - 1) & (degree >= 2)] = 2
        split[(rank == degree - 2) & (degree >= 3)] = 1
        return make_split_data(data, split)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(order={self.order!r}, seed={self.seed})'


class RatioSplit(BaseTransform):
    r"""Per-user ratio split (e.g. 0.8 / 0.1 / 0.1) in time or random order: each user's
    oldest interactions train, the newest test. Counts per user follow RecBole's rounding
    (every split with a positive ratio gets at least one interaction while training keeps
    more than one).

    Args:
        ratios (Sequence[float]): Train, validation and test fractions (normalised to 1).
        order (str): ``'time'`` or ``'random'``. (default: :obj:`'time'`)
        seed (int): Seed of the random order. (default: :obj:`2020`)
    """
    def __init__(self, ratios: Sequence[float] = (0.8, 0.1, 0.1), order: str = 'time',
                 seed: int = 2020) -> None:
        ratios = [float(r) for r in ratios]
        if len(ratios) != 3 or not all(map(math.isfinite, ratios)) or min(ratios) < 0 or \
                ratios[0] <= 0:
            raise UserInputError(f'ratio split needs three fractions train,val,test with '
                                 f'train > 0 and none negative or infinite, got {ratios}')
        _check_order(order)
        total = sum(ratios)
        self.ratios = [r / total for r in ratios]
        self.order = order
        self.seed = seed

    def split_counts(self, degree: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Validation and test counts for users of the given degrees (RecBole's rule)."""
        n = degree.double()
        val = torch.floor(self.ratios[1] * n + 1e-9)  # 1e-9: 0.7 * 10 is 6.999...
        test = torch.floor(self.ratios[2] * n + 1e-9)
        # Bump a split with a positive ratio that rounded to zero, test first, while the
        # user keeps more than one training interaction.
        for counts, ratio in ((test, self.ratios[2]), (val, self.ratios[1])):
            train = n - val - test
            bump = (ratio * n > 0) & (ratio * n < 1) & (train > 1)
            counts += bump.double()
        return val.long(), test.long()

    def forward(self, data: HeteroData) -> Tuple[HeteroData, HeteroData, HeteroData]:
        _check_graph(data)
        store = data[EDGE_TYPE]
        rank, degree = rank_within_user(store.edge_index[0], store.get('time'), self.order,
                                        self.seed)
        val, test = self.split_counts(degree)
        split = torch.zeros_like(rank)
        split[rank >= degree - test - val] = 1
        split[rank >= degree - test] = 2
        return make_split_data(data, split)

    def __repr__(self) -> str:
        r = ', '.join(f'{x:g}' for x in self.ratios)
        return f'{self.__class__.__name__}(ratios=({r}), order={self.order!r}, seed={self.seed})'


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


def parse_split(spec: str, order: str = 'time', seed: int = 2020) -> BaseTransform:
    r"""``'loo'`` -> :class:`LeaveOneOutSplit`; ``'0.8,0.1,0.1'`` -> :class:`RatioSplit`;
    ``'cold-items:0.1'`` -> :class:`ColdItemSplit`
    (its items drawn with :obj:`seed`; :obj:`order` does not apply)."""
    if spec in ('loo', 'leave-one-out'):
        return LeaveOneOutSplit(order=order, seed=seed)
    if spec == 'cold-items' or spec.startswith('cold-items:'):
        _, colon, ratio = spec.partition(':')
        try:
            value = float(ratio) if colon else 0.1
        except ValueError:
            raise UserInputError(f"unknown split '{spec}': use 'cold-items:RATIO', e.g. "
                                 "'cold-items:0.1'", param='split') from None
        return ColdItemSplit(value, seed=seed)
    try:
        ratios = [float(x) for x in spec.split(',')]
    except ValueError:
        raise UserInputError(f"unknown split '{spec}': use 'loo', three ratios such as "
                             f"'0.8,0.1,0.1' or 'cold-items:0.1'") from None
    return RatioSplit(ratios, order=order, seed=seed)


def train_index(data: HeteroData) -> Tensor:
    r"""The training interactions ``[2, E_train]`` (user, item) of a split graph."""
    return data[EDGE_TYPE].edge_index


def label_index(data: HeteroData) -> Tensor:
    r"""The split's own interactions ``[2, E_split]`` (user, item)."""
    return data[EDGE_TYPE].edge_label_index


