"""From a split graph to a backbone's initial embeddings (``ExperimentConfig.init``).

``none`` keeps the backbone's own initialisation; every other choice encodes the item texts
(cached), applies :class:`~pyg_llminit.transforms.LLMInit` to the TRAINING graph and copies
the result into the backbone through :meth:`~pyg_llminit.models.base.Recommender.init_from_x`.
"""
import math
from typing import Optional, Sequence, Tuple, Union

from torch import Tensor
from torch_geometric.data import HeteroData

from ..datasets.graph import ITEM, USER
from ..errors import invalid
from ..catalog import INITS, STRATEGIES
from ..transforms.llminit import LLMInit, xavier_std


def check_init_scale(value: Union[None, str, float]) -> Union[None, str, float]:
    r"""``init_scale`` checked: ``None``/``'none'`` -> ``None``, ``'xavier'``, or a
    positive finite number."""
    if value is None or value == 'none' or value == 'xavier':
        return None if value in (None, 'none') else value
    try:
        scale = float(value)
    except (TypeError, ValueError):
        raise invalid('init_scale', f"takes 'none', 'xavier' or a number, got '{value}'") \
            from None
    if not (math.isfinite(scale) and scale > 0):
        raise invalid('init_scale', f'must be a positive number, got {value}')
    return scale


def parse_scale(value: Union[None, str, float], num_nodes: int, dim: int) -> Optional[float]:
    r"""``init_scale`` as a target std: ``None``/``'none'`` (the features' own scale),
    ``'xavier'`` (the std of PyG LightGCN's own xavier-uniform init, for
    ``[num_nodes, dim]``) or a positive number."""
    scale = check_init_scale(value)
    return xavier_std(num_nodes, dim) if scale == 'xavier' else scale


def llminit_features(train_data: HeteroData, init: str, dim: Optional[int],
                     encoder: str = 'minilm', fields: Union[str, Sequence[str]] = ('title',),
                     template: Optional[str] = None, popular_ratio: float = 0.2,
                     scale: Union[None, str, float] = None, seed: int = 2020,
                     cache_dir: Optional[str] = None, progress: bool = True,
                     embedding: Optional[Tensor] = None,
                     normalize: str = 'none') -> Tuple[Tensor, Tensor, LLMInit]:
    r"""LLMInit features of a training graph.

    Args:
        train_data (HeteroData): The training split (its ``edge_index`` holds training
            interactions only, so user pooling and item popularity never see held-out data).
        init (str): An LLMInit strategy (see :data:`~pyg_llminit.transforms.STRATEGIES`).
        dim (int, optional): Embedding size ``d_CF`` (``None`` with ``'full'``: all dims).
        encoder (str): Text encoder preset, folder or hub id.
        fields, template: The item text recipe.
        popular_ratio (float): Share of most popular items for ``'variance'``.
        scale: See :func:`parse_scale` (a float is used as is).
        seed (int): Seed of ``'random'``.
        cache_dir (str, optional): Embedding cache folder.
        progress (bool): Progress bars while encoding.
        embedding (Tensor, optional): Precomputed item embeddings ``[num_items, d_LLM]``;
            when given, nothing is encoded and :obj:`encoder`, :obj:`fields` and
            :obj:`template` are ignored.
        normalize (str): ``'none'`` or ``'minmax'`` (the authors' code; see
            :class:`~pyg_llminit.transforms.LLMInit`).

    Returns:
        ``(user_x [U, d], item_x [I, d], transform)``.
    """
    from ..text import encode_items
    if init not in STRATEGIES:
        raise invalid('init', f"'{init}' is not an LLMInit strategy (choose from "
                      f"{', '.join(INITS)})")
    if embedding is None:
        embedding = encode_items(train_data, encoder, fields=fields, template=template,
                                 cache_dir=cache_dir, progress=progress)
    width = embedding.size(1) if init == 'full' else dim
    num_nodes = train_data[USER].num_nodes + train_data[ITEM].num_nodes
    scale = parse_scale(scale, num_nodes, width or embedding.size(1))
    transform = LLMInit(embedding, dim=width, strategy=init, popular_ratio=popular_ratio,
                        seed=seed, scale=scale, normalize=normalize)
    data = transform(train_data.clone())
    return data[USER].x, data[ITEM].x, transform


def describe(user_x: Tensor, item_x: Tensor) -> str:
    r"""One line on the initial tables' scale (the backbone's own init is far smaller)."""
    return (f'init: item x {tuple(item_x.shape)} std {float(item_x.std()):.4f}, '
            f'user x {tuple(user_x.shape)} std {float(user_x.std()):.4f}')


__all__ = ['llminit_features', 'check_init_scale', 'parse_scale', 'describe']
