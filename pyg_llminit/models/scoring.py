"""Full-ranking scores of a trained model: the dot product of user and item embeddings."""
from typing import Callable, List

import torch
from torch import Tensor


def embedding_scores(user_emb: Tensor, item_emb: Tensor, reuse_buffer: bool = False
                     ) -> Callable[[Tensor], Tensor]:
    r"""Dot-product scores ``user_emb[users] @ item_emb.T`` as a :obj:`score_fn`.

    Args:
        user_emb (Tensor): ``[U, d]``.
        item_emb (Tensor): ``[I, d]``.
        reuse_buffer (bool): Write every call's ``[B, I]`` scores into one buffer, so each
            result is valid only until the next call (enough for
            :meth:`RankingEvaluator.evaluate`). A fresh 50 MB chunk per call page-faults
            at first touch, a large share of the product's cost on a CPU.
            (default: :obj:`False`)
    """
    if not reuse_buffer:
        return lambda users: user_emb[users] @ item_emb.t()
    buffer: List[Tensor] = []

    def scores(users: Tensor) -> Tensor:
        if not buffer or buffer[0].size(0) < users.numel():
            buffer[:] = [user_emb.new_empty(users.numel(), item_emb.size(0))]
        return torch.mm(user_emb[users], item_emb.t(), out=buffer[0][:users.numel()])
    return scores


__all__ = ['embedding_scores']
