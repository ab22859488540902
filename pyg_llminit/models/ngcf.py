"""NGCF: graph convolution with feature transforms and bi-interaction messages."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Recommender
from .losses import bpr_loss, check_non_negative, check_ratio, l2_reg
from .propagation import NormalizedAdjacency


class NGCF(Recommender):
    r"""NGCF (Wang et al., "Neural Graph Collaborative Filtering", SIGIR 2019, Eq. 7):

    .. math::
        E^{(l)} = \mathrm{LeakyReLU}\big((\hat{A} + I) E^{(l-1)} W_1^{(l)} +
        (\hat{A} E^{(l-1)} \odot E^{(l-1)}) W_2^{(l)}\big)

    followed by message dropout and row-wise L2 normalisation (as in the reference code);
    the representation is the concatenation of all layers, ``[E^(0) | ... | E^(L)]``, so
    scores are inner products of ``d (L + 1)``-dimensional vectors. Node dropout (off in the
    authors' default configuration) is not implemented.

    Args:
        num_users (int), num_items (int): Node counts.
        embedding_dim (int): ``d`` of the table and of every layer. (default: :obj:`128`)
        num_layers (int): ``L``. (default: :obj:`2`)
        reg_weight (float): L2 weight on the batch's ego embeddings. (default: :obj:`1e-5`)
        message_dropout (float): Dropout on each layer's output, in ``[0, 1)``.
            (default: :obj:`0.1`)

    Shapes:
        - forward: adjacency ``[U+I, U+I]`` -> users ``[U, d(L+1)]``, items ``[I, d(L+1)]``
        - loss: ``user, pos, neg`` of shape ``[B]`` -> scalar
    """
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5,
                 message_dropout: float = 0.1) -> None:
        super().__init__()
        self.num_users, self.num_items, self.num_layers = num_users, num_items, num_layers
        self.reg_weight = check_non_negative('reg_weight', reg_weight)
        self.message_dropout = check_ratio('message_dropout', message_dropout)
        self.embedding = torch.nn.Embedding(num_users + num_items, embedding_dim)
        self.w1 = torch.nn.ModuleList(torch.nn.Linear(embedding_dim, embedding_dim)
                                      for _ in range(num_layers))
        self.w2 = torch.nn.ModuleList(torch.nn.Linear(embedding_dim, embedding_dim)
                                      for _ in range(num_layers))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.embedding.weight)
        for lin in [*self.w1, *self.w2]:
            torch.nn.init.xavier_uniform_(lin.weight)
            torch.nn.init.zeros_(lin.bias)

    def propagate(self, adj: NormalizedAdjacency, rows: Optional[Tensor] = None) -> Tensor:
        r"""``[U+I, d(L+1)]``, or ``[len(rows), d(L+1)]`` for unique :obj:`rows` (the last
        layer then multiplies only those rows of the adjacency)."""
        h = self.ego(adj)
        outs = [h]
        for layer, (w1, w2) in enumerate(zip(self.w1, self.w2)):
            if rows is not None and layer == self.num_layers - 1:
                side, h = adj.propagate_rows(h, rows), h.index_select(0, rows)
                outs = [o.index_select(0, rows) for o in outs]
            else:
                side = adj.propagate(h)
            h = F.leaky_relu(w1(side + h) + w2(side * h), negative_slope=0.2)
            h = F.dropout(h, self.message_dropout, self.training)
            outs.append(F.normalize(h, dim=1))  # the next layer reads the unnormalised h
        if rows is not None and self.num_layers == 0:
            outs = [outs[0].index_select(0, rows)]
        return torch.cat(outs, dim=1)

    def forward(self, adj: NormalizedAdjacency) -> Tuple[Tensor, Tensor]:
        out = self.propagate(adj)
        return out[:self.num_users], out[self.num_users:]

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        rows = self.batch_rows(user, pos, neg, adj)
        unique_rows, inverse = torch.unique(rows, return_inverse=True)
        out = self.propagate(adj, unique_rows)
        u, p, n = out.index_select(0, inverse).chunk(3)
        rec = bpr_loss((u * p).sum(-1), (u * n).sum(-1))
        ego = out[:, :self.embedding.embedding_dim]  # layer 0 of the unique rows
        reg = self.reg_weight * l2_reg(*ego.index_select(0, inverse).chunk(3))
        return rec + reg, {'bpr': rec.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding.embedding_dim}, num_layers={self.num_layers}, '
                f'message_dropout={self.message_dropout})')
