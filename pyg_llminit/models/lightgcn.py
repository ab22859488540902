"""LightGCN recommender on top of PyG's :class:`~torch_geometric.nn.models.LightGCN`."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.models import LightGCN as PyGLightGCN

from .base import Recommender, bpr_loss, l2_reg
from .propagation import NormalizedAdjacency


class LightGCN(Recommender):
    r"""LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network
    for Recommendation", SIGIR 2020) for a user-item graph, trained with BPR.

    The parameters (embedding table, layer weights :math:`\alpha_l = 1/(L+1)`) are those
    of PyG's :class:`~torch_geometric.nn.models.LightGCN`; each ``LGConv`` step
    :math:`\hat{A} X` runs over the adjacency normalised once per graph
    (:class:`~pyg_llminit.models.propagation.NormalizedAdjacency`, a symmetric CSR product
    whose backward reuses the same matrix). The output equals PyG's
    ``LightGCN.get_embedding`` (a test checks it) at a fraction of the cost.

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
        embedding_dim (int): Embedding size ``d``. (default: :obj:`128`)
        num_layers (int): Propagation layers ``L``. (default: :obj:`2`)
        reg_weight (float): Weight of the L2 term on the batch's ego embeddings.
            (default: :obj:`1e-5`)

    Shapes:
        - forward: adjacency ``[U+I, U+I]`` -> users ``[U, d]``, items ``[I, d]``
        - loss: ``user, pos, neg`` of shape ``[B]`` -> scalar
    """
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5) -> None:
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.reg_weight = reg_weight
        self.gnn = PyGLightGCN(num_users + num_items, embedding_dim, num_layers,
                               normalize=False)
        self.embedding = self.gnn.embedding

    @property
    def embedding_dim(self) -> int:
        return self.gnn.embedding_dim

    @property
    def num_layers(self) -> int:
        return self.gnn.num_layers

    def reset_parameters(self) -> None:
        self.gnn.reset_parameters()

    def propagate(self, adj: NormalizedAdjacency, rows: Optional[Tensor] = None) -> Tensor:
        r"""Layer-combined embeddings, users first: all nodes ``[U+I, d]``, or only the
        unique :obj:`rows` ``[R, d]``, whose last layer then multiplies only those rows of
        the adjacency (same values, a third of the work for a Beauty batch)."""
        x = self.embedding.weight
        hs = [x]
        for i in range(self.num_layers):
            if rows is not None and i == self.num_layers - 1:
                hs.append(adj.propagate_rows(hs[-1], rows))
            else:
                hs.append(adj.propagate(hs[-1]))
        if rows is not None:  # the last layer is already restricted to rows
            hs = [h[rows] for h in hs[:-1]] + hs[-1:] if self.num_layers else [x[rows]]
        alpha = self.gnn.alpha
        out = hs[0] * alpha[0]
        for h, a in zip(hs[1:], alpha[1:]):
            out = out + h * a
        return out

    def forward(self, adj: NormalizedAdjacency) -> Tuple[Tensor, Tensor]:
        out = self.propagate(adj)
        return out[:self.num_users], out[self.num_users:]

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        # One gather of all batch rows: its backward fills one [U+I, d] gradient, where
        # slicing users and items apart first would fill three.
        rows = self.batch_rows(user, pos, neg)
        unique_rows, inverse = torch.unique(rows, return_inverse=True)
        u, p, n = self.propagate(adj, unique_rows)[inverse].chunk(3)
        rec = bpr_loss((u * p).sum(-1), (u * n).sum(-1))
        reg = self.reg_weight * l2_reg(*self.embedding.weight[rows].chunk(3))
        return rec + reg, {'bpr': rec.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers})')
