"""Per-user splits of a bipartite interaction graph: leave-one-out and ratio splits.

Both follow PyG's :class:`~torch_geometric.transforms.RandomLinkSplit` convention: calling the
transform returns ``(train_data, val_data, test_data)``. In all three, the message-passing
edges (``edge_index`` of both edge types) are the TRAINING interactions only; each split's
own interactions are in ``data['user', 'rates', 'item'].edge_label_index``. Validation and test
interactions therefore never take part in training propagation, user pooling or degrees.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from ..datasets.graph import EDGE_TYPE, REV_EDGE_TYPE
from ..catalog import ORDERS
from ..errors import UserInputError



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
        raise UserInputError('the graph has no user-item interactions')


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
                part_store[key] = value[..., train_mask] if key == 'edge_index' else value[train_mask]
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
        if len(ratios) != 3 or min(ratios) < 0 or ratios[0] <= 0:
            raise UserInputError(f'ratio split needs three fractions train,val,test with '
                                 f'train > 0 and none negative, got {ratios}')
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


def parse_split(spec: str, order: str = 'time', seed: int = 2020) -> BaseTransform:
    r"""``'loo'`` -> :class:`LeaveOneOutSplit`; ``'0.8,0.1,0.1'`` -> :class:`RatioSplit`;
    ``'cold-items:0.1'`` -> :class:`~pyg_llminit.transforms.cold_items.ColdItemSplit`
    (its items drawn with :obj:`seed`; :obj:`order` does not apply)."""
    if spec in ('loo', 'leave-one-out'):
        return LeaveOneOutSplit(order=order, seed=seed)
    if spec == 'cold-items' or spec.startswith('cold-items:'):
        from .cold_items import ColdItemSplit
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


