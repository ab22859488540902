"""LightGCN recommender on top of PyG's :class:`~torch_geometric.nn.models.LightGCN`."""
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.models import LightGCN as PyGLightGCN

from .base import Recommender
from .losses import bpr_loss, check_non_negative, l2_reg
from .propagation import NormalizedAdjacency, propagate_layers


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
        self.reg_weight = check_non_negative('reg_weight', reg_weight)
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

    def propagate(self, adj: NormalizedAdjacency, rows: Optional[Tensor] = None,
                  perturb: Optional[Callable[[Tensor], Tensor]] = None,
                  first: Optional[Tensor] = None) -> Tensor:
        r"""Layer-combined embeddings, users first: all nodes ``[U+I, d]``, or only the
        unique :obj:`rows` ``[R, d]`` (see
        :func:`~pyg_llminit.models.propagation.propagate_layers`)."""
        return self.combine(propagate_layers(adj, self.ego(adj), self.num_layers,
                                             rows, perturb, first))

    def combine(self, hs: List[Tensor]) -> Tensor:
        r"""LightGCN's readout :math:`\sum_l \alpha_l h_l`, :math:`\alpha_l = 1/(L+1)`."""
        alpha = self.gnn.alpha
        out = hs[0] * alpha[0]
        for h, a in zip(hs[1:], alpha[1:]):
            out = out + h * a
        return out

    def forward(self, adj: NormalizedAdjacency) -> Tuple[Tensor, Tensor]:
        out = self.propagate(adj)
        return out[:self.num_users], out[self.num_users:]

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        rec, reg = self.bpr_terms(adj, user, pos, neg)
        return rec + reg, {'bpr': rec.detach(), 'reg': reg.detach()}

    def bpr_terms(self, adj, user: Tensor, pos: Tensor, neg: Tensor,
                  perturb: Optional[Callable[[Tensor], Tensor]] = None,
                  first: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        r"""BPR on the propagated embeddings and the L2 term on the batch's ego embeddings."""
        rows = self.batch_rows(user, pos, neg, adj)
        unique_rows, inverse, hs = self.batch_layers(adj, rows, perturb, first)
        # index_select, not [], for the gathers: its backward is an index_add, where
        # advanced indexing's (an accumulating index_put) sorts on the CPU
        return self.bpr_from(self.combine(hs).index_select(0, inverse),
                             hs[0].index_select(0, inverse))

    def batch_layers(self, adj, rows: Tensor,
                     perturb: Optional[Callable[[Tensor], Tensor]] = None,
                     first: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, List[Tensor]]:
        r"""``(unique_rows, inverse, layers)``: the layer outputs of the batch's unique rows
        and the map back to :obj:`rows` (``unique_rows[inverse] == rows``)."""
        unique_rows, inverse = torch.unique(rows, return_inverse=True)
        hs = propagate_layers(adj, self.ego(adj), self.num_layers, unique_rows,
                              perturb, first)
        return unique_rows, inverse, hs

    def bpr_from(self, out: Tensor, ego: Tensor) -> Tuple[Tensor, Tensor]:
        r"""BPR and L2 terms from the final ``[3B, d]`` and ego ``[3B, d]`` embeddings of
        :meth:`batch_rows`."""
        u, p, n = out.chunk(3)
        rec = bpr_loss((u * p).sum(-1), (u * n).sum(-1))
        # The caller gathers the ego rows from layer 0 of the batch's unique rows, so
        # their gradient joins the propagation's one [U+I, d] buffer, not a new one.
        reg = self.reg_weight * l2_reg(*ego.chunk(3))
        return rec, reg

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers})')
