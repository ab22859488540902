"""PyG transforms of this package: the per-user splits (:class:`LeaveOneOutSplit`,
:class:`RatioSplit`) and :class:`LLMInit` (arXiv 2503.01814) with its helpers."""
from .llminit import (STRATEGIES, LLMInit, apply_selection, minmax_normalize, num_popular,
                      select_dims, xavier_std)
from .split import (ColdItemSplit, LeaveOneOutSplit, RatioSplit, label_index, parse_split,
                    train_index)

__all__ = ['LeaveOneOutSplit', 'RatioSplit', 'ColdItemSplit', 'parse_split', 'train_index',
           'label_index',
           'LLMInit', 'select_dims', 'apply_selection', 'minmax_normalize', 'num_popular',
           'xavier_std',
           'STRATEGIES']
