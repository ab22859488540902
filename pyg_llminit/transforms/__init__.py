"""PyG transforms of this package: :class:`LLMInit` (arXiv 2503.01814) and its helpers."""
from .llminit import (STRATEGIES, LLMInit, apply_selection, num_popular, select_dims,
                      xavier_std)

__all__ = ['LLMInit', 'select_dims', 'apply_selection', 'num_popular', 'xavier_std',
           'STRATEGIES']
