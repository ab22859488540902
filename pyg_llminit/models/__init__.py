"""Recommender backbones; every one is built by name through :func:`build_model`."""
from typing import Any

from ..errors import UserInputError
from .base import Recommender
from .lightgcn import LightGCN
from .propagation import normalized_adjacency

MODELS = {'lightgcn': LightGCN}


def build_model(name: str, num_users: int, num_items: int, **kwargs: Any) -> Recommender:
    r"""Instantiates the backbone :obj:`name` (see :data:`MODELS`)."""
    if name not in MODELS:
        raise UserInputError(f"unknown model '{name}' (known: {', '.join(MODELS)})")
    return MODELS[name](num_users, num_items, **kwargs)


__all__ = ['LightGCN', 'Recommender', 'build_model', 'normalized_adjacency', 'MODELS']
