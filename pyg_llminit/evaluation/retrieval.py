"""Approximate top-k retrieval for catalogues where exact full ranking is too slow.

Exact evaluation (:class:`~pyg_llminit.evaluation.ranking.RankingEvaluator`) scores every user
against every item. For very large catalogues, :func:`approximate_top_items` asks PyG's
:class:`~torch_geometric.nn.pool.ApproxMIPSKNNIndex` (faiss IVF-PQ over inner products)
instead, excluding each user's known items; :func:`top_k_overlap` measures how many of the
exact top-k it recovers. Needs ``faiss`` (``pip install faiss-cpu``). Catalogues smaller
than faiss's product-quantisation codebook (256 items) are ranked exactly instead.
"""
from typing import Optional

import torch
from torch import Tensor

from ..errors import UserInputError
from ..models.scoring import embedding_scores
from .topk import UserItems, ranked_lists

PQ_CENTROIDS = 256  # faiss trains 2^8 centroids per sub-vector: it needs that many items


def exact_top_items(user_emb: Tensor, item_emb: Tensor, k: int,
                    exclude_index: Optional[Tensor] = None,
                    batch_size: int = 65536) -> Tensor:
    r"""Exact top-:obj:`k` items ``[U, k]`` by inner product, :obj:`exclude_index` pairs
    never returned (``-1`` where fewer are left), scored :obj:`batch_size` users at a
    time."""
    user_emb, item_emb = user_emb.detach().float(), item_emb.detach().float()
    if exclude_index is None:
        exclude_index = torch.empty(2, 0, dtype=torch.long)
    exclude = UserItems(exclude_index.cpu(), user_emb.size(0))
    return ranked_lists(embedding_scores(user_emb, item_emb),
                        torch.arange(user_emb.size(0)), exclude, k, batch_size)[0]


def approximate_top_items(user_emb: Tensor, item_emb: Tensor, k: int,
                          exclude_index: Optional[Tensor] = None,
                          num_cells: Optional[int] = None, num_cells_to_visit: int = 8,
                          sub_vectors: int = 16) -> Tensor:
    r"""Top-:obj:`k` items per user by approximate maximum inner product.

    Args:
        user_emb (Tensor): ``[U, d]``.
        item_emb (Tensor): ``[I, d]``.
        k (int): List length.
        exclude_index (Tensor, optional): ``(user, item)`` pairs never returned ``[2, E]``.
        num_cells (int, optional): IVF cells (default ``4 sqrt(I)``).
        num_cells_to_visit (int): Cells searched per query (``nprobe``): more is slower and
            closer to exact.
        sub_vectors (int): Product-quantisation sub-vectors (must divide ``d``).

    Returns:
        Item indices ``[U, k]`` (``-1`` where fewer than :obj:`k` were found). Fewer than
        256 items are ranked exactly (:func:`exact_top_items`).
    """
    try:
        from torch_geometric.nn.pool import ApproxMIPSKNNIndex
        import faiss  # noqa: F401
    except ImportError:
        raise UserInputError('approximate top-k needs faiss: pip install faiss-cpu') from None
    dim, num_items = item_emb.size(1), item_emb.size(0)
    if not 1 <= k <= num_items:
        raise UserInputError(f'k={k} must lie in [1, {num_items}] (the number of items)')
    user_emb, item_emb = user_emb.detach().float().cpu(), item_emb.detach().float().cpu()
    exclude_index = exclude_index.cpu() if exclude_index is not None else None
    if num_items < PQ_CENTROIDS:  # too few items to train the codebook; exact is instant
        return exact_top_items(user_emb, item_emb, k, exclude_index)
    if dim % sub_vectors:
        raise UserInputError(f'sub_vectors={sub_vectors} must divide the embedding size {dim}')
    # k-means needs at least one item per cell
    num_cells = min(num_cells or max(1, int(4 * num_items ** 0.5)), num_items)
    index = ApproxMIPSKNNIndex(num_cells, num_cells_to_visit, sub_vectors)
    index.add(item_emb.contiguous())
    return index.search(user_emb.contiguous(), k, exclude_links=exclude_index).index


def top_k_overlap(approx: Tensor, exact: Tensor) -> float:
    r"""Mean share of each exact top-k list ``[U, k]`` found in the approximate one."""
    hits = (approx.unsqueeze(2) == exact.unsqueeze(1)).any(1).float()
    return float(hits.mean())


__all__ = ['approximate_top_items', 'exact_top_items', 'top_k_overlap']
