"""From a split graph to a backbone's initial embeddings: ``--init`` of the CLI.

``none`` keeps the backbone's own initialisation; every other choice encodes the item texts
(cached), applies :class:`~pyg_llminit.transforms.LLMInit` to the TRAINING graph and copies
the result into the backbone through :meth:`~pyg_llminit.models.base.Recommender.init_from_x`.
"""
from typing import Optional, Sequence, Tuple, Union

from torch import Tensor
from torch_geometric.data import HeteroData

from .datasets.graph import ITEM, USER
from .errors import UserInputError
from .transforms.llminit import STRATEGIES, LLMInit, xavier_std

INITS = ('none',) + STRATEGIES


def parse_scale(value: Optional[str], num_nodes: int, dim: int) -> Optional[float]:
    r"""``--init-scale``: ``None``/``'none'`` (copied as-is, as in the paper), ``'xavier'``
    (the std of PyG LightGCN's own xavier-uniform init) or a positive number (target std)."""
    if value is None or value == 'none':
        return None
    if value == 'xavier':
        return xavier_std(num_nodes, dim)
    try:
        scale = float(value)
    except ValueError:
        raise UserInputError(f"--init-scale takes 'none', 'xavier' or a number, got '{value}'") \
            from None
    if not scale > 0:
        raise UserInputError(f'--init-scale must be positive, got {value}')
    return scale


def llminit_features(train_data: HeteroData, init: str, dim: Optional[int],
                     encoder: str = 'minilm', fields: Union[str, Sequence[str]] = ('title',),
                     template: Optional[str] = None, popular_ratio: float = 0.2,
                     scale: Union[None, str, float] = None, seed: int = 2020,
                     cache_dir: Optional[str] = None, progress: bool = True,
                     embedding: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, LLMInit]:
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

    Returns:
        ``(user_x [U, d], item_x [I, d], transform)``.
    """
    from .text import encode_items
    if init not in STRATEGIES:
        raise UserInputError(f"unknown --init '{init}' (choose from {', '.join(INITS)})")
    if embedding is None:
        embedding = encode_items(train_data, encoder, fields=fields, template=template,
                                 cache_dir=cache_dir, progress=progress)
    width = embedding.size(1) if init == 'full' else dim
    num_nodes = train_data[USER].num_nodes + train_data[ITEM].num_nodes
    if isinstance(scale, str) or scale is None:
        scale = parse_scale(scale, num_nodes, width or embedding.size(1))
    transform = LLMInit(embedding, dim=width, strategy=init, popular_ratio=popular_ratio,
                        seed=seed, scale=scale)
    data = transform(train_data.clone())
    return data[USER].x, data[ITEM].x, transform


def describe(user_x: Tensor, item_x: Tensor) -> str:
    r"""One line on the initial tables' scale (the backbone's own init is far smaller)."""
    return (f'init: item x {tuple(item_x.shape)} std {float(item_x.std()):.4f}, '
            f'user x {tuple(user_x.shape)} std {float(user_x.std()):.4f}')


__all__ = ['INITS', 'llminit_features', 'parse_scale', 'describe']
