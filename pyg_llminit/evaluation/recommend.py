"""Top-K recommendations from a trained model: every item ranked for given users, the
items they already know masked, as the evaluation does."""
from typing import TYPE_CHECKING, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..errors import UserInputError, invalid
from .topk import UserItems, ranked_lists

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from ..models.base import Recommender
    from ..models.propagation import NormalizedAdjacency


def user_index(data: 'HeteroData', user_ids: Sequence[str]) -> Tensor:
    r"""Node indices ``[len(user_ids)]`` of original user ids; an unknown id is an error."""
    position = {u: i for i, u in enumerate(data['user'].ids)}
    unknown = [u for u in user_ids if u not in position]
    if unknown:
        raise UserInputError(f"unknown user id '{unknown[0]}' (the graph has "
                             f"{len(position):,} users, e.g. '{data['user'].ids[0]}')")
    return torch.tensor([position[u] for u in user_ids], dtype=torch.long)


@torch.no_grad()
def recommend(model: 'Recommender', adj: 'NormalizedAdjacency', users: Tensor,
              exclude_index: Tensor, k: int = 10, batch_size: int = 1024,
              progress: bool = False, hide_items: Optional[Tensor] = None
              ) -> Tuple[Tensor, Tensor]:
    r"""The top-:obj:`k` items of each user, known items excluded.

    Args:
        model (Recommender): A trained backbone.
        adj (NormalizedAdjacency): The adjacency it propagates over (training edges).
        users (Tensor): User indices ``[B]``.
        exclude_index (Tensor): ``(user, item)`` pairs never recommended, ``[2, E]``.
        k (int): List length, at most the number of items.
        batch_size (int): Users scored at once (the propagation runs once, before).
        progress (bool): Show a progress bar over the batches.
        hide_items (Tensor, optional): Items never recommended to anyone ``[H]`` (a
            cold-item split's held-out items, whose embeddings were never trained).

    Returns:
        ``(items, scores)``, both ``[B, k]``, best first; where a user has fewer than
        :obj:`k` items left, the tail has item ``-1`` and score ``-inf``.
    """
    if not 1 <= k <= adj.num_items:
        raise invalid('k', f'must lie in 1..{adj.num_items}, got {k}')
    exclude = UserItems(exclude_index.cpu(), adj.num_users)
    device = next(model.parameters()).device
    score_fn = model.score_fn(adj)
    if hide_items is not None and hide_items.numel():
        hidden, model_scores = hide_items.to(device), score_fn

        def score_fn(index: Tensor) -> Tensor:
            return model_scores(index).index_fill_(1, hidden, float('-inf'))
    return ranked_lists(score_fn, users, exclude, k, batch_size, device, progress)


__all__ = ['recommend', 'user_index']
