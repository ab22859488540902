"""Recommender backbones; every one is built by name through :func:`build_model`."""
import inspect
from typing import Any

from .. import catalog
from ..errors import UserInputError
from .base import Recommender
from .scoring import embedding_scores
from .lightgcn import LightGCN
from .mf import MF
from .ngcf import NGCF
from .sgcl import SGCL
from .sgl import SGL
from .simgcl import SimGCL, XSimGCL
from .propagation import NormalizedAdjacency, SubgraphAdjacency, normalized_adjacency

#: ``name -> class``, from :data:`pyg_llminit.catalog.MODELS`.
MODELS = {name: globals()[cls_name] for name, cls_name in catalog.MODELS.items()}
SHARED_OPTIONS = ('embedding_dim', 'num_layers')


def _coerce(model: str, key: str, value: Any, annotation: Any) -> Any:
    r"""A hyper-parameter as its declared type (an int is a fine float, a bool is not)."""
    if annotation in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if annotation is int and ok and float(value).is_integer():
            return int(value)
        if annotation is float and ok:
            return float(value)
        raise UserInputError(f"option '{key}' of model '{model}' takes "
                             f"{'an integer' if annotation is int else 'a number'}, "
                             f"got {value!r}")
    return value


def build_model(name: str, num_users: int, num_items: int, **kwargs: Any) -> Recommender:
    r"""Instantiates the backbone :obj:`name` (see :data:`MODELS`).

    Options a backbone does not have (``num_layers`` for MF, say) are dropped when their
    value is ``None`` or one of the shared settings ``embedding_dim`` / ``num_layers``, so one
    call serves every model; any other unknown option is a user error naming it.
    """
    if name not in MODELS:
        raise UserInputError(f"unknown model '{name}' (known: {', '.join(MODELS)})")
    cls = MODELS[name]
    accepted = inspect.signature(cls.__init__).parameters
    options = {}
    for key, value in kwargs.items():
        if key in accepted:
            options[key] = _coerce(name, key, value, accepted[key].annotation)
        elif value is not None and key not in SHARED_OPTIONS:
            raise UserInputError(f"model '{name}' has no option '{key}'")
    return cls(num_users, num_items, **options)


__all__ = ['LightGCN', 'SGL', 'SGCL', 'MF', 'NGCF', 'SimGCL', 'XSimGCL', 'Recommender',
           'build_model', 'MODELS', 'NormalizedAdjacency', 'SubgraphAdjacency',
           'normalized_adjacency', 'embedding_scores']
