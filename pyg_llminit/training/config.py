"""Optimisation and evaluation settings of the :class:`~pyg_llminit.training.Trainer`."""
import math
from dataclasses import dataclass, fields
from typing import Any, Optional, Tuple, Union, get_args, get_origin, get_type_hints

from .. import catalog
from ..catalog import LOADERS
from ..devices import resolve_device
from ..errors import invalid


#: The largest seed: numpy's legacy generators take seeds below 2**32.
MAX_SEED = 2 ** 32 - 1


def _is(value: Any, kind: Any) -> bool:
    r"""Whether :obj:`value` (as read from JSON or TOML) is of type hint :obj:`kind`."""
    origin, args = get_origin(kind), get_args(kind)
    if kind is Any:
        return True
    if origin is Union:
        return any(_is(value, arg) for arg in args)
    if kind is type(None):
        return value is None
    if origin in (tuple, list):  # Tuple[int, ...]; JSON gives lists
        return isinstance(value, (tuple, list)) and all(_is(v, args[0]) for v in value)
    if origin is dict or kind is dict:
        return isinstance(value, dict)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def check_types(config: Any) -> None:
    r"""Raises a :class:`~pyg_llminit.errors.UserInputError` naming the first field of
    dataclass :obj:`config` whose value is not of its declared type (a ``config.json``
    edited by hand: ``"graph": 123``, ``"seed": "abc"``)."""
    hints = get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        if not _is(value, hints[f.name]):
            raise invalid(f.name, f'must be {_type_name(hints[f.name])}, got {value!r}')


def _type_name(kind: Any) -> str:
    args = [a for a in get_args(kind) if a is not type(None)]
    if get_origin(kind) is Union:
        return ' or '.join(_type_name(a) for a in args) + (
            ' or null' if type(None) in get_args(kind) else '')
    if get_origin(kind) in (tuple, list):
        return 'a list of ' + {int: 'integers', float: 'numbers'}.get(args[0], 'strings')
    names = {int: 'an integer', float: 'a number', str: 'a string', bool: 'true or false'}
    return names.get(kind, 'a mapping')  # Dict[str, Any]: the model options


@dataclass
class TrainConfig:
    r"""Optimisation and evaluation settings (defaults: LightGCN on Beauty as in LLMInit,
    arXiv 2503.01814, with batch 2048).

    Args:
        epochs (int): Maximum epochs; early stopping usually ends sooner.
        batch_size (int): Training interactions per step (the global batch under DDP).
        lr (float): Adam learning rate.
        patience (int): Stop after this many epochs without a better :obj:`monitor`...
        warmup (int): ... counted only after this many epochs, so an early dip of the
            validation curve cannot stop a run (see
            :class:`~pyg_llminit.training.stopping.EarlyStopping`).
        monitor (str): Validation metric for early stopping and model selection.
        topk (Tuple[int, ...]): Cut-offs K of the metrics.
        seed (int): Seed of shuffling, negatives and sampled subgraphs.
        eval_batch_size (int): Users scored at once in evaluation.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or ``'auto'`` (a GPU when there
            is one, as on the command line).
        loader (str): ``'full'`` (every step propagates over the whole graph) or
            ``'neighbor'`` (PyG's ``LinkNeighborLoader`` samples a subgraph per batch).
        fanout (Tuple[int, ...], optional): With ``loader='neighbor'``: neighbours sampled
            per layer (``-1``: all). Default 10 per layer.
        user_groups (Tuple[int, ...], optional): Upper bounds of the groups of users by
            training interactions for per-group test metrics; ``None`` skips them.
        deterministic (bool): Turn on ``torch.use_deterministic_algorithms`` (for the
            whole process) when training starts. CPU runs with one seed are already
            identical (tested); on CUDA this trades speed for kernels without atomics.
        item_groups (Tuple[float, float], optional): Shares of the items, by training
            degree, that end the head and the torso for per-item-popularity test metrics
            (``(0.2, 0.5)``: top 20%, next 30%, other 50%); ``None`` skips them.
        stopping (str): How patience is counted: ``'strict'``, ``'recbole'`` (ties
            count as improvements, stop after ``patience + 1`` epochs without) or
            ``'smoothed'`` (patience counts from the best of the curve's moving average,
            for small, noisy validation sets; see
            :class:`~pyg_llminit.training.stopping.EarlyStopping`).
        negatives (str): What a BPR negative must not be: one of the user's training items
            (``'seen'``) or only the triplet's positive (``'positive'``: RecBole's
            repeatable sampling, as the LLMInit authors' configuration).
        mask_seen (bool): Full-ranking evaluation never ranks the user's training items
            (and, at test, validation items); ``False`` ranks every item, as RecBole's
            repeatable evaluation does (its history sets are empty).
    """
    epochs: int = 300
    batch_size: int = 2048
    lr: float = 1e-3
    patience: int = 10
    warmup: int = 30
    monitor: str = 'ndcg@10'
    topk: Tuple[int, ...] = (10, 20)
    seed: int = 2020
    eval_batch_size: int = 1024
    device: str = 'auto'
    loader: str = 'full'
    fanout: Optional[Tuple[int, ...]] = None
    user_groups: Optional[Tuple[int, ...]] = (5, 10, 20)
    item_groups: Optional[Tuple[float, ...]] = (0.2, 0.5)
    deterministic: bool = False
    stopping: str = 'strict'
    negatives: str = 'seen'
    mask_seen: bool = True

    def __post_init__(self) -> None:
        from ..evaluation.groups import check_group_edges
        check_types(self)
        if not 0 <= self.seed <= MAX_SEED:  # numpy's and every library's seeds fit
            raise invalid('seed', f'must lie in 0..{MAX_SEED} (2**32 - 1), got {self.seed}')
        for name in ('epochs', 'batch_size', 'eval_batch_size', 'patience'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise invalid(name, f'must be an integer, got {value!r}')
            if value < 1:
                raise invalid(name, f'must be at least 1, got {value}')
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or \
                not (math.isfinite(self.lr) and self.lr > 0):
            raise invalid('lr', f'must be a positive finite number, got {self.lr!r}')
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or \
                self.warmup < 0:
            raise invalid('warmup', f'must be an integer of at least 0, got {self.warmup!r}')
        self.topk = tuple(self.topk)
        if not self.topk or min(self.topk) < 1:
            raise invalid('topk', f'values must be positive, got {list(self.topk)}')
        names = [f'{m}@{k}' for m in catalog.METRICS for k in sorted(set(self.topk))]
        if self.monitor not in names:  # before a comparison or a run commits to it
            raise invalid('monitor', f"'{self.monitor}' is not among the computed metrics "
                          f"({', '.join(names)})")
        if self.user_groups is not None:
            self.user_groups = tuple(check_group_edges(self.user_groups))
        if self.item_groups is not None:
            from ..evaluation.groups import check_item_shares
            self.item_groups = tuple(check_item_shares(self.item_groups))
        if self.fanout is not None:
            self.fanout = tuple(self.fanout)
        from .sampling import EXCLUDES
        from .stopping import COUNTINGS
        for name, known in (('stopping', COUNTINGS), ('negatives', EXCLUDES)):
            if getattr(self, name) not in known:
                raise invalid(name, f"must be one of {', '.join(known)}, got "
                              f"'{getattr(self, name)}'")
        if not isinstance(self.mask_seen, bool):
            raise invalid('mask_seen', f'must be true or false, got {self.mask_seen!r}')
        if self.loader not in LOADERS:
            raise invalid('loader', f"must be one of {', '.join(LOADERS)}, got '{self.loader}'")


__all__ = ['TrainConfig', 'resolve_device', 'check_types', 'MAX_SEED']
