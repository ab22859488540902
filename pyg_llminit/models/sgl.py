"""SGL: LightGCN with edge-dropout views and a contrastive auxiliary loss."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .lightgcn import LightGCN
from ..errors import UserInputError
from .losses import check_non_negative, check_positive, check_ratio, info_nce
from .propagation import NormalizedAdjacency


class SGL(LightGCN):
    r"""SGL-ED (Wu et al., "Self-supervised Graph Learning for Recommendation", SIGIR 2021):
    LightGCN trained with BPR plus an InfoNCE loss between two edge-dropout views of the
    graph, redrawn every epoch.

    .. math::
        \mathcal{L} = \mathcal{L}_{BPR} + \lambda_{ssl}\,(\mathcal{L}^{user}_{ssl} +
        \mathcal{L}^{item}_{ssl}) + \lambda_{reg}\lVert E^{(0)}_B \rVert^2

    Each view keeps ``1 - drop_ratio`` of the training interactions and is re-normalised
    (built once per epoch, :meth:`prepare_epoch`). The InfoNCE terms contrast every user of
    the batch (and every positive item) in view 1 with the same node in view 2, against all
    users (all items) of view 2 as negatives (``negatives='all'``), as the SGL paper
    (Eq. 9-10) and RecBole's SGL, which the LLMInit authors ran; averaged over the batch
    (RecBole sums both BPR and InfoNCE over it: the same ratio of the two terms).
    ``negatives='batch'`` contrasts only the batch's unique nodes among themselves
    (cheaper: view 2 propagated for the batch's rows only, the similarity matrices
    ``B x B`` instead of ``B x U`` and ``B x I``). Defaults: the LLMInit paper's SGL
    configuration (tau 0.2, weight 0.05, ratio 0.1).

    Args:
        num_users (int), num_items (int), embedding_dim (int), num_layers (int),
        reg_weight (float): As in :class:`~pyg_llminit.models.LightGCN`.
        ssl_tau (float): InfoNCE temperature (> 0). (default: :obj:`0.2`)
        ssl_weight (float): Weight of the contrastive loss (>= 0). (default: :obj:`0.05`)
        drop_ratio (float): Share of edges dropped per view, in ``[0, 1)``.
            (default: :obj:`0.1`)
        negatives (str): ``'all'`` nodes of the other view or the ``'batch'``'s unique
            nodes (see above). (default: :obj:`'all'`)

    Shapes:
        - forward: adjacency ``[U+I, U+I]`` -> users ``[U, d]``, items ``[I, d]``
        - loss: ``user, pos, neg`` of shape ``[B]`` -> scalar
    """
    NEGATIVES = ('all', 'batch')

    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5, ssl_tau: float = 0.2,
                 ssl_weight: float = 0.05, drop_ratio: float = 0.1,
                 negatives: str = 'all') -> None:
        super().__init__(num_users, num_items, embedding_dim, num_layers, reg_weight)
        self.ssl_tau = check_positive('ssl_tau', ssl_tau)
        self.ssl_weight = check_non_negative('ssl_weight', ssl_weight)
        self.drop_ratio = check_ratio('drop_ratio', drop_ratio)
        if negatives not in self.NEGATIVES:
            raise UserInputError(f"negatives must be one of {', '.join(self.NEGATIVES)}, "
                                 f"got '{negatives}'", param='negatives')
        self.negatives = negatives
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
        num_users = self.users_in(adj)
        if self.negatives == 'batch':
            users, items = torch.unique(user), torch.unique(pos) + num_users
            rows = torch.cat([users, items])
            z1, z2 = (self.propagate(view, rows) for view in views)
            k = users.numel()
            ssl = (info_nce(z1[:k], z2[:k], self.ssl_tau) +
                   info_nce(z1[k:], z2[k:], self.ssl_tau))
        else:  # every batch entry against all users / all items of view 2
            rows, inverse = torch.unique(torch.cat([user, pos + num_users]),
                                         return_inverse=True)
            z1 = self.propagate(views[0], rows).index_select(0, inverse)
            z2 = self.propagate(views[1])
            b = user.numel()
            ssl = (info_nce(z1[:b], z2[:num_users], self.ssl_tau, user) +
                   info_nce(z1[b:], z2[num_users:], self.ssl_tau, pos))
        total = rec + reg + self.ssl_weight * ssl
        return total, {'bpr': rec.detach(), 'ssl': ssl.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers}, '
                f'ssl_tau={self.ssl_tau}, ssl_weight={self.ssl_weight}, '
                f'drop_ratio={self.drop_ratio}'
                f'{"" if self.negatives == "all" else ", negatives=" + repr(self.negatives)})')
