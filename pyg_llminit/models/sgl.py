"""SGL: LightGCN with edge-dropout views and a contrastive auxiliary loss."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .lightgcn import LightGCN
from .losses import check_non_negative, check_positive, check_ratio, info_nce
from .adjacency import NormalizedAdjacency


class SGL(LightGCN):
    r"""SGL-ED (Wu et al., "Self-supervised Graph Learning for Recommendation", SIGIR 2021):
    LightGCN trained with BPR plus an InfoNCE loss between two edge-dropout views of the
    graph, redrawn every epoch.

    .. math::
        \mathcal{L} = \mathcal{L}_{BPR} + \lambda_{ssl}\,(\mathcal{L}^{user}_{ssl} +
        \mathcal{L}^{item}_{ssl}) + \lambda_{reg}\lVert E^{(0)}_B \rVert^2

    Each view keeps ``1 - drop_ratio`` of the training interactions and is re-normalised;
    the InfoNCE terms contrast the batch's unique users (and positive items) in view 1 with
    the same nodes in view 2, the other batch nodes being the negatives. The views are built
    once per epoch (:meth:`prepare_epoch`) and propagated only for the batch's rows.
    Defaults: the LLMInit paper's SGL configuration (tau 0.2, weight 0.05, ratio 0.1).

    Args:
        num_users (int), num_items (int), embedding_dim (int), num_layers (int),
        reg_weight (float): As in :class:`~pyg_llminit.models.LightGCN`.
        ssl_tau (float): InfoNCE temperature (> 0). (default: :obj:`0.2`)
        ssl_weight (float): Weight of the contrastive loss (>= 0). (default: :obj:`0.05`)
        drop_ratio (float): Share of edges dropped per view, in ``[0, 1)``.
            (default: :obj:`0.1`)

    Shapes:
        - forward: adjacency ``[U+I, U+I]`` -> users ``[U, d]``, items ``[I, d]``
        - loss: ``user, pos, neg`` of shape ``[B]`` -> scalar
    """
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5, ssl_tau: float = 0.2,
                 ssl_weight: float = 0.05, drop_ratio: float = 0.1) -> None:
        super().__init__(num_users, num_items, embedding_dim, num_layers, reg_weight)
        self.ssl_tau = check_positive('ssl_tau', ssl_tau)
        self.ssl_weight = check_non_negative('ssl_weight', ssl_weight)
        self.drop_ratio = check_ratio('drop_ratio', drop_ratio)
        self.views: Optional[Tuple[NormalizedAdjacency, NormalizedAdjacency]] = None

    def prepare_epoch(self, adj: NormalizedAdjacency,
                      generator: Optional[torch.Generator] = None) -> None:
        r"""Draws this epoch's two edge-dropout views of :obj:`adj`."""
        self.views = (adj.drop_edges(self.drop_ratio, generator),
                      adj.drop_edges(self.drop_ratio, generator))

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        if adj.sampled:  # a sampled subgraph: its own views
            views = (adj.drop_edges(self.drop_ratio), adj.drop_edges(self.drop_ratio))
        else:
            if self.views is None:
                self.prepare_epoch(adj)
            views = self.views
        rec, reg = self.bpr_terms(adj, user, pos, neg)
        users, items = torch.unique(user), torch.unique(pos) + self.users_in(adj)
        rows = torch.cat([users, items])
        z1, z2 = (self.propagate(view, rows) for view in views)
        k = users.numel()
        ssl = (info_nce(z1[:k], z2[:k], self.ssl_tau) +
               info_nce(z1[k:], z2[k:], self.ssl_tau))
        total = rec + reg + self.ssl_weight * ssl
        return total, {'bpr': rec.detach(), 'ssl': ssl.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers}, '
                f'ssl_tau={self.ssl_tau}, ssl_weight={self.ssl_weight}, '
                f'drop_ratio={self.drop_ratio})')
