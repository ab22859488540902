"""From a split graph to a backbone's initial embeddings (``ExperimentConfig.init``).

``none`` keeps the backbone's own initialisation; every other choice encodes the item texts
(cached), applies :class:`~pyg_llminit.transforms.LLMInit` to the TRAINING graph and copies
the result into the backbone through :meth:`~pyg_llminit.models.base.Recommender.init_from_x`.
"""
from typing import Optional, Sequence, Tuple, Union

from torch import Tensor
from torch_geometric.data import HeteroData

from ..datasets.graph import ITEM, USER
from ..errors import invalid
from ..catalog import INITS, STRATEGIES
from ..transforms.llminit import LLMInit, xavier_std

from .config import ExperimentConfig, check_init_scale


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


def item_text_embedding(config: ExperimentConfig, data: HeteroData,
                        train: HeteroData, log=None) -> Tensor:
    r"""The item text embedding ``E`` ``[num_items, d_LLM]`` of :obj:`config`: read from its
    ``embedding_file`` (rows matched to :obj:`data`'s item ids), or :obj:`train`'s item
    texts encoded with its ``encoder`` on its ``encoder_device`` (cached on disk)."""
    if config.embedding_file is not None:
        from ..text.external import load_item_vectors
        embedding = load_item_vectors(config.embedding_file, data[ITEM].ids)
        if log is not None:
            log(f'item vectors {tuple(embedding.shape)} from {config.embedding_file}')
        return embedding
    from ..text import encode_items
    return encode_items(train, config.encoder, config.text_fields, config.text_template,
                        device=config.encoder_device)


def describe(user_x: Tensor, item_x: Tensor) -> str:
    r"""One line on the initial tables' scale (the backbone's own init is far smaller)."""
    return (f'init: item x {tuple(item_x.shape)} std {float(item_x.std()):.4f}, '
            f'user x {tuple(user_x.shape)} std {float(user_x.std()):.4f}')


__all__ = ['llminit_features', 'item_text_embedding', 'parse_scale', 'describe']
