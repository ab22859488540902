"""SimGCL and XSimGCL: contrastive views from noise added to LightGCN's layers."""
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import UserInputError
from .lightgcn import LightGCN
from .losses import check_non_negative, check_positive, info_nce


class SimGCL(LightGCN):
    r"""SimGCL (Yu et al., "Are Graph Augmentations Necessary? Simple Graph Contrastive
    Learning for Recommendation", SIGIR 2022).

    LightGCN propagation whose two contrastive views add a random direction of length
    :obj:`eps` to every layer's output, in the sign orthant of the embedding:
    :math:`h \leftarrow h + \epsilon\,\mathrm{sign}(h) \odot \bar{\Delta}`,
    :math:`\bar{\Delta} = \Delta / \lVert\Delta\rVert`, :math:`\Delta \sim U(0, 1)^d`.
    Loss: BPR on the clean embeddings + :obj:`cl_weight` x InfoNCE between the views, over
    the batch's unique users and positive items. The three passes share their first
    product :math:`\hat{A} E^{(0)}` (the noise is added after it): with 2 layers a step
    costs one full product and three batch-restricted ones instead of three of each. The
    readout averages layers 1..L (layer 0 is left out, as in the authors' code). Defaults:
    eps 0.1, tau 0.2, weight 0.5.

    Args:
        num_users (int), num_items (int), embedding_dim (int), num_layers (int),
        reg_weight (float): As in :class:`~pyg_llminit.models.LightGCN`.
        cl_weight (float): :math:`\lambda`, weight of the contrastive loss (>= 0).
        eps (float): Noise magnitude (>= 0).
        cl_tau (float): InfoNCE temperature (> 0).

    Shapes:
        - forward: adjacency ``[U+I, U+I]`` -> users ``[U, d]``, items ``[I, d]``
        - loss: ``user, pos, neg`` of shape ``[B]`` -> scalar
    """
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5, cl_weight: float = 0.5,
                 eps: float = 0.1, cl_tau: float = 0.2) -> None:
        super().__init__(num_users, num_items, embedding_dim, num_layers, reg_weight)
        self.cl_weight = check_non_negative('cl_weight', cl_weight)
        self.eps = check_non_negative('eps', eps)
        self.cl_tau = check_positive('cl_tau', cl_tau)

    def noise(self, h: Tensor) -> Tensor:
        return h + torch.sign(h) * F.normalize(torch.rand_like(h), dim=-1) * self.eps

    def combine(self, hs: List[Tensor]) -> Tensor:
        layers = hs[1:] or hs
        return torch.stack(layers).mean(0)

    def _contrast(self, z1: Tensor, z2: Tensor, k: int) -> Tensor:
        r"""InfoNCE of the first :obj:`k` rows (users) plus that of the rest (items)."""
        return info_nce(z1[:k], z2[:k], self.cl_tau) + info_nce(z1[k:], z2[k:], self.cl_tau)

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        # The clean pass and both noisy views start with the same product A x: do it once.
        first = adj.propagate(self.ego(adj)) if self.num_layers else None
        rec, reg = self.bpr_terms(adj, user, pos, neg, first=first)
        users, items = torch.unique(user), torch.unique(pos) + self.users_in(adj)
        rows = torch.cat([users, items])
        z1, z2 = (self.propagate(adj, rows, self.noise, first) for _ in range(2))
        cl = self._contrast(z1, z2, users.numel())
        total = rec + reg + self.cl_weight * cl
        return total, {'bpr': rec.detach(), 'cl': cl.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers}, '
                f'cl_weight={self.cl_weight}, eps={self.eps}, cl_tau={self.cl_tau})')


class XSimGCL(SimGCL):
    r"""XSimGCL (Yu et al., "XSimGCL: Towards Extremely Simple Graph Contrastive Learning
    for Recommendation", TKDE 2023).

    One noisy forward pass serves both losses: BPR reads its final (layer-averaged)
    embeddings, and the contrastive loss pairs them with the same pass's layer
    :obj:`cl_layer` output (cross-layer contrast), so a step costs one propagation instead of
    SimGCL's three. Defaults (the authors'): eps 0.2, tau 0.15, weight 0.2, layer 1.

    Args:
        num_users (int), num_items (int), embedding_dim (int), num_layers (int),
        reg_weight (float), cl_weight (float), eps (float), cl_tau (float): As in
            :class:`SimGCL`.
        cl_layer (int): The layer contrasted with the final embeddings, in ``1..L``.
    """
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5, cl_weight: float = 0.2,
                 eps: float = 0.2, cl_tau: float = 0.15, cl_layer: int = 1) -> None:
        super().__init__(num_users, num_items, embedding_dim, num_layers, reg_weight,
                         cl_weight, eps, cl_tau)
        if not 1 <= cl_layer <= num_layers:
            raise UserInputError(f'cl_layer must lie in 1..{num_layers}, got {cl_layer}')
        self.cl_layer = int(cl_layer)

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        rows = self.batch_rows(user, pos, neg, adj)
        unique_rows, inverse, hs = self.batch_layers(adj, rows, self.noise)
        final = self.combine(hs)
        rec, reg = self.bpr_from(final.index_select(0, inverse),
                                 hs[0].index_select(0, inverse))
        users, items = torch.unique(user), torch.unique(pos) + self.users_in(adj)
        at = torch.searchsorted(unique_rows, torch.cat([users, items]))
        cl = self._contrast(final[at], hs[self.cl_layer][at], users.numel())
        total = rec + reg + self.cl_weight * cl
        return total, {'bpr': rec.detach(), 'cl': cl.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f', cl_layer={self.cl_layer})'
