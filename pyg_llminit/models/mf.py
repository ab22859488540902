"""Matrix factorisation trained with BPR."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .base import Recommender
from .losses import bpr_loss, check_non_negative, l2_reg


class MF(Recommender):
    r"""MF-BPR (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback",
    UAI 2009): a user and an item table, score :math:`e_u^\top e_i`, no propagation.

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
        embedding_dim (int): Embedding size ``d``. (default: :obj:`128`)
        reg_weight (float): Weight of the L2 term on the batch's embeddings.
            (default: :obj:`1e-5`)

    Shapes:
        - forward: (adjacency, ignored) -> users ``[U, d]``, items ``[I, d]``
        - loss: ``user, pos, neg`` of shape ``[B]`` -> scalar
    """
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 reg_weight: float = 1e-5) -> None:
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.reg_weight = check_non_negative('reg_weight', reg_weight)
        self.embedding = torch.nn.Embedding(num_users + num_items, embedding_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.embedding.weight)

    def forward(self, adj: Optional[object] = None) -> Tuple[Tensor, Tensor]:
        return self.ego_embeddings()

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        rows = self.batch_rows(user, pos, neg, adj)
        e = self.ego(adj).index_select(0, rows)  # backward: index_add, no sort
        u, p, n = e.chunk(3)
        rec = bpr_loss((u * p).sum(-1), (u * n).sum(-1))
        reg = self.reg_weight * l2_reg(u, p, n)
        return rec + reg, {'bpr': rec.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding.embedding_dim})')
