r"""LLMInit: initial node features from a language model's item text embedding.

Weizhi Zhang et al., "LLMInit: A Free Lunch from Large Language Models for Selective
Initialization of Recommendation", arXiv 2503.01814 (EMNLP 2025, Industry Track).
Items start as a column slice ``E[:, S]`` of their text embedding ``E`` (min-max normalised
first in the authors' code), users as the mean of their TRAINING items; the backbone then
trains both tables as usual.
"""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import scatter

from ..datasets.graph import EDGE_TYPE
from ..catalog import NORMALIZATIONS, STRATEGIES
from ..errors import UserInputError
from .split import cold_items

USER_POOLINGS = ('mean', )


def xavier_std(num_nodes: int, dim: int) -> float:
    r"""Standard deviation of :func:`torch.nn.init.xavier_uniform_` on a ``[num_nodes, dim]``
    table, :math:`\sqrt{2 / (\text{num\_nodes} + \text{dim})}`: the init scale of PyG's
    :class:`~torch_geometric.nn.models.LightGCN` (``num_nodes`` = users + items there).
    Pass it as :obj:`scale` of :class:`LLMInit` to match the backbone's own init scale."""
    return math.sqrt(2.0 / (num_nodes + dim))


def _check_embedding(embedding) -> Tensor:
    embedding = torch.as_tensor(embedding)
    if embedding.dim() != 2 or embedding.numel() == 0:
        raise UserInputError(f'the item embedding must be a non-empty 2-D [num_items, d_LLM] '
                             f'tensor, got shape {tuple(embedding.shape)}')
    if not embedding.is_floating_point():
        embedding = embedding.float()
    if not bool(torch.isfinite(embedding).all()):
        raise UserInputError('the item embedding contains NaN or inf values')
    return embedding


def minmax_range(values: Tensor) -> Tuple[Tensor, Tensor]:
    r"""The minimum and maximum over all of :obj:`values` (float64 scalars); all values
    equal is a :class:`~pyg_llminit.errors.UserInputError` (RecBole warns and sets them
    to 1)."""
    low, high = values.double().min(), values.double().max()
    if not bool(high > low):
        raise UserInputError('cannot min-max normalise the item embedding: all its values '
                             f'are equal ({float(low):g})')
    return low, high


def minmax_normalize(embedding: Tensor, rows: Optional[Tensor] = None) -> Tensor:
    r"""``(E - min) / (max - min)`` with the minimum and maximum over ALL values of ``E``
    (of its :obj:`rows` only, if given), so every fitted entry lies in ``[0, 1]``: RecBole's
    ``Dataset._normalize`` of a float-sequence field, which the LLMInit authors' config
    applies to the LLM vectors (``normalize_all: True``). Computed in float64, returned in
    :obj:`embedding`'s dtype. Shape ``[num_items, d_LLM]``.

    Raises:
        UserInputError: all fitted values are equal (see :func:`minmax_range`).
    """
    low, high = minmax_range(embedding if rows is None else embedding[rows])
    return ((embedding.double() - low) / (high - low)).to(embedding.dtype)


def check_dim(dim: Optional[int], strategy: str, width: int,
              num_items: Optional[int] = None) -> int:
    r"""The number of dimensions :obj:`strategy` keeps of an item embedding ``[num_items,
    width]``: :obj:`dim` when it can (at most the width; for ``'pca'`` also at most the
    number of items), else a :class:`~pyg_llminit.errors.UserInputError`."""
    if strategy not in STRATEGIES:
        raise UserInputError(f"unknown LLMInit strategy '{strategy}' "
                             f"(choose from {', '.join(STRATEGIES)})")
    if strategy == 'full':
        if dim is not None and dim != width:
            raise UserInputError(f"strategy 'full' keeps all {width} dimensions: dim must be "
                                 f'None or {width}, got {dim}')
        return width
    if dim is None or not 1 <= dim <= width:
        raise UserInputError(f'dim must be in [1, {width}]: LLMInit selects dim of the item '
                             f'embedding\'s {width} dimensions; got {dim}')
    if strategy == 'pca' and num_items is not None and dim > num_items:
        raise UserInputError(f"strategy 'pca' needs dim <= number of items ({num_items}), "
                             f'got {dim}')
    return int(dim)


def num_popular(num_items: int, popular_ratio: float) -> int:
    r"""``ceil(popular_ratio * num_items)``, at least 1 (a 1e-9 slack keeps ``0.7 * 10`` at 7)."""
    return max(1, math.ceil(popular_ratio * num_items - 1e-9))


def select_dims(embedding: Tensor, dim: Optional[int], strategy: str,
                item_degree: Optional[Tensor] = None, popular_ratio: float = 0.2,
                generator: Optional[torch.Generator] = None) -> Tensor:
    r"""LLMInit's selective index sampling: which columns of :obj:`embedding` to keep.

    Args:
        embedding (Tensor): Item text embedding ``E``, shape ``[num_items, d_LLM]``.
        dim (int, optional): Number of dimensions ``d_CF`` to keep (``None`` only for
            ``'full'``).
        strategy (str): ``'uniform'``: every ``k``-th column, ``k = d_LLM // dim``, from 0,
            first ``dim`` of them. ``'variance'``: the ``dim`` columns of largest population
            variance (``unbiased=False``) over the ``ceil(popular_ratio * num_items)`` (at
            least 1) items of highest :obj:`item_degree` (degree ties: lower item id first;
            variance ties: lower column first). ``'random'``: ``dim`` columns drawn with
            replacement from :obj:`generator` (torch's global RNG when ``None``), as the
            authors' ``torch.randint`` does, so a column may repeat; ``'random-distinct'``:
            ``dim`` distinct columns (without replacement). ``'pca'``: the top
            ``dim`` principal directions of the centred ``E`` (eigenvectors of its float64 Gram
            matrix, i.e. its right singular vectors; each direction's sign makes its
            largest-magnitude loading positive, the first such loading on ties; directions
            of equal variance are not unique).
            ``'full'``: all columns (the embedding-collapse baseline).
        item_degree (Tensor, optional): TRAINING degree per item ``[num_items]``; needed
            by ``'variance'``.
        popular_ratio (float): Fraction of most popular items for ``'variance'``.
            (default: :obj:`0.2`)
        generator (torch.Generator, optional): RNG of ``'random'`` and
            ``'random-distinct'``.

    Returns:
        For index strategies a LongTensor ``S`` of shape ``[dim]`` in ascending order
        (features are ``E[:, S]``); for ``'pca'`` a projection ``P`` of shape
        ``[d_LLM, dim]`` (features are ``(E - E.mean(0)) @ P``). See :func:`apply_selection`.
    """
    embedding = _check_embedding(embedding)
    num_items, width = embedding.shape
    dim = check_dim(dim, strategy, width, num_items)
    device = embedding.device
    if strategy == 'full':
        return torch.arange(width, device=device)
    if strategy == 'uniform':
        return torch.arange(dim, device=device) * (width // dim)
    if strategy == 'random':  # the authors' torch.randint: with replacement
        return torch.randint(0, width, (dim, ), generator=generator).sort().values.to(device)
    if strategy == 'random-distinct':
        return torch.randperm(width, generator=generator)[:dim].sort().values.to(device)
    if strategy == 'variance':
        if not 0 < popular_ratio <= 1:
            raise UserInputError(f'popular_ratio must be in (0, 1], got {popular_ratio}')
        if item_degree is None or item_degree.numel() != num_items:
            raise UserInputError("strategy 'variance' needs the training degree of every item")
        order = torch.sort(-item_degree.to(device).long(), stable=True).indices  # ties: id
        popular = order[:num_popular(num_items, popular_ratio)]
        var = embedding[popular].double().var(dim=0, unbiased=False)
        top = torch.sort(-var, stable=True).indices[:dim]  # ties: lower column
        return top.sort().values
    # pca
    centred = embedding.double() - embedding.double().mean(dim=0)
    # Right singular vectors of the centred E = eigenvectors of its Gram matrix (float64,
    # d_LLM x d_LLM: far cheaper than an SVD of the [num_items, d_LLM] matrix).
    proj = torch.linalg.eigh(centred.t() @ centred).eigenvectors.flip(1)[:, :dim]
    pivot = proj.abs().argmax(dim=0)
    sign = torch.sign(proj[pivot, torch.arange(dim, device=device)])
    return (proj * torch.where(sign == 0, torch.ones_like(sign), sign)).to(embedding.dtype)


def apply_selection(embedding: Tensor, selection: Tensor,
                    rows: Optional[Tensor] = None) -> Tensor:
    r"""Item features from :func:`select_dims`'s output: ``E[:, S]`` for an index set, or
    the centred projection ``(E - E.mean(0)) @ P`` for a float ``P`` (the mean over
    :obj:`rows` only, if given). Shape ``[num_items, dim]``."""
    if selection.is_floating_point():
        fitted = embedding if rows is None else embedding[rows]
        return (embedding - fitted.mean(dim=0)) @ selection
    return embedding[:, selection]


class LLMInit(BaseTransform):
    r"""Sets LLMInit node features on a bipartite user-item graph (Zhang et al., "LLMInit: A
    Free Lunch from Large Language Models for Selective Initialization of Recommendation",
    arXiv 2503.01814): ``data['item'].x = E[:, S]`` ``[num_items, dim]`` and
    ``data['user'].x`` ``[num_users, dim]`` the mean of ``E[i, S]`` over the user's items in
    ``data[edge_type].edge_index``. Feed both to a backbone with
    :meth:`~pyg_llminit.models.base.Recommender.init_from_x`.

    Apply it to the graphs returned by a split (e.g.
    :class:`~pyg_llminit.transforms.split.LeaveOneOutSplit`), or to any graph whose ``edge_index``
    holds TRAINING edges only: every edge there feeds user pooling and the item degrees of
    ``'variance'``, so validation/test edges would leak. Users without any such edge get the
    mean of all item rows ``E[:, S]`` (finite, never NaN). The selection is kept at graph
    level as ``data.llminit_index`` (LongTensor ``[dim]``), or for ``'pca'`` as
    ``data.llminit_proj`` (``[d_LLM, dim]``, applied to the centred ``E``), so that
    :meth:`~torch_geometric.data.HeteroData.to_homogeneous` carries it unchanged.

    Args:
        embedding (Tensor): Item text embedding ``E`` ``[num_items, d_LLM]``, rows aligned
            with item node ids.
        dim (int, optional): Width ``d_CF`` of the features; ``None`` only with ``'full'``.
            (default: :obj:`128`)
        strategy (str): ``'uniform'``, ``'variance'`` (the paper's best), ``'random'``
            (with replacement, as the authors' code), ``'random-distinct'``,
            ``'pca'`` or ``'full'``; see :func:`select_dims`. (default: :obj:`'variance'`)
        popular_ratio (float): Fraction of most popular items (by training degree) that
            ``'variance'`` measures, in ``(0, 1]``. (default: :obj:`0.2`)
        user_pooling (str): How users pool their items; only ``'mean'``. (default: :obj:`'mean'`)
        edge_type (Tuple[str, str, str]): The (user, relation, item) edge type.
            (default: :obj:`('user', 'rates', 'item')`)
        seed (int, optional): Seed of ``'random'``; ``None`` draws from torch's global RNG
            (not reproducible unless :func:`torch.manual_seed` is set). (default: :obj:`None`)
        scale (float, optional): ``None`` keeps the features' scale. A float target
            std multiplies both tables by ``scale / item_x.std()`` (population std over all
            entries), e.g. ``xavier_std(num_users + num_items, dim)`` to match PyG's
            LightGCN init. (default: :obj:`None`)
        normalize (str): ``'minmax'`` maps ``E`` to ``[0, 1]`` by its global minimum and
            maximum before selection (:func:`minmax_normalize`; what the authors' code
            does, through RecBole), so items and pooled users start from normalised rows;
            ``'none'`` uses ``E`` as it is. The selected indices are the same either way.
            (default: :obj:`'none'`)
        attr (str): The node attribute the features are written to, on users and items;
            another name than ``'x'`` keeps features a graph already has (PyG's MovieLens
            has ``movie.x``). (default: :obj:`'x'`)
    """
    def __init__(self, embedding: Tensor, dim: Optional[int] = 128, strategy: str = 'variance',
                 popular_ratio: float = 0.2,
                 user_pooling: str = 'mean', edge_type: Tuple[str, str, str] = EDGE_TYPE,
                 seed: Optional[int] = None, scale: Optional[float] = None,
                 normalize: str = 'none', attr: str = 'x') -> None:
        self.embedding = _check_embedding(embedding)
        if not isinstance(attr, str) or not attr.isidentifier():
            raise UserInputError(f'attr must be an attribute name, got {attr!r}')
        self.attr = attr
        if normalize not in NORMALIZATIONS:
            raise UserInputError(f"unknown normalize '{normalize}' "
                                 f"(choose from {', '.join(NORMALIZATIONS)})")
        self.dim = check_dim(dim, strategy, self.embedding.size(1), self.embedding.size(0))
        if user_pooling not in USER_POOLINGS:
            raise UserInputError(f"unknown user_pooling '{user_pooling}' "
                                 f"(choose from {', '.join(USER_POOLINGS)})")
        if not 0 < popular_ratio <= 1:
            raise UserInputError(f'popular_ratio must be in (0, 1], got {popular_ratio}')
        if scale is not None and not (math.isfinite(scale) and scale > 0):
            raise UserInputError(f'scale must be a positive target std or None, got {scale}')
        self.strategy, self.popular_ratio = strategy, popular_ratio
        self.user_pooling, self.edge_type = user_pooling, tuple(edge_type)
        self.seed, self.scale, self.normalize = seed, scale, normalize
        if normalize == 'minmax':  # a constant matrix fails here, before any graph is seen
            minmax_range(self.embedding)

    def forward(self, data: HeteroData) -> HeteroData:
        if self.edge_type not in data.edge_types:
            raise UserInputError(f'edge type {self.edge_type} is not in the graph '
                                 f'(it has {data.edge_types})')
        src, _, dst = self.edge_type
        num_users, num_items = data[src].num_nodes, data[dst].num_nodes
        if self.embedding.size(0) != num_items:
            raise UserInputError(f'the item embedding has {self.embedding.size(0)} rows but '
                                 f"the graph has {num_items} '{dst}' nodes")
        edge_index = data[self.edge_type].edge_index
        emb = self.embedding.to(edge_index.device)
        degree = torch.bincount(edge_index[1], minlength=num_items)
        gen = None if self.seed is None else torch.Generator().manual_seed(self.seed)
        # the statistics (popularity, PCA, scale) of a cold-item split never see the text
        # of its held-out items, which stand for items that arrive after training
        fit = torch.ones(num_items, dtype=torch.bool, device=edge_index.device)
        fit[cold_items(data).to(fit.device)] = False
        fit = None if bool(fit.all()) else fit.nonzero().view(-1)
        if self.normalize == 'minmax':
            emb = minmax_normalize(emb, fit)
        sel = select_dims(emb if fit is None else emb[fit], self.dim, self.strategy,
                          degree if fit is None else degree[fit], self.popular_ratio, gen)
        item_x = apply_selection(emb, sel, fit)
        fitted_x = item_x if fit is None else item_x[fit]
        user_x = scatter(item_x[edge_index[1]], edge_index[0], dim=0, dim_size=num_users,
                         reduce='sum')
        user_deg = torch.bincount(edge_index[0], minlength=num_users)
        user_x = torch.where(user_deg.unsqueeze(1) > 0,
                             user_x / user_deg.clamp(min=1).unsqueeze(1).to(user_x.dtype),
                             fitted_x.mean(dim=0, keepdim=True))
        if self.scale is not None:
            std = float(fitted_x.std(unbiased=False))
            if std == 0:
                raise UserInputError('cannot rescale LLMInit features: the item features '
                                     'are constant (std 0)')
            item_x, user_x = item_x * (self.scale / std), user_x * (self.scale / std)
        data[dst][self.attr], data[src][self.attr] = item_x, user_x
        # Graph-level, not on the item store: to_homogeneous() would pad an item-only
        # attribute for users with NaN (float) or -1 (int) dummies.
        key, stale = ('llminit_proj', 'llminit_index') if sel.is_floating_point() else \
            ('llminit_index', 'llminit_proj')
        data[key] = sel
        if stale in data:
            del data[stale]
        return data

    def __repr__(self) -> str:
        args = [f'dim={self.dim}', f'strategy={self.strategy!r}']
        if self.strategy == 'variance':
            args.append(f'popular_ratio={self.popular_ratio}')
        if self.seed is not None:
            args.append(f'seed={self.seed}')
        if self.scale is not None:
            args.append(f'scale={self.scale:g}')
        if self.normalize != 'none':
            args.append(f'normalize={self.normalize!r}')
        if self.edge_type != EDGE_TYPE:
            args.append(f'edge_type={self.edge_type}')
        if self.attr != 'x':
            args.append(f'attr={self.attr!r}')
        return f'{self.__class__.__name__}({", ".join(args)})'
