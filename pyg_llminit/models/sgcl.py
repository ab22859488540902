"""SGCL: LightGCN trained by one supervised graph contrastive loss."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .lightgcn import LightGCN
from .losses import check_positive, l2_reg, supervised_contrastive_loss


class SGCL(LightGCN):
    r"""SGCL (Zhang et al., "SGCL: Unifying Self-Supervised and Supervised Learning for Graph
    Recommendation", RecSys 2025, arXiv 2507.13336): LightGCN propagation, no negative
    sampling, no augmented views; one supervised contrastive loss on the L2-normalised
    outputs of a batch of interactions :math:`(u_b, i_b)`:

    .. math::
        \mathcal{L} = -\frac{1}{B}\sum_{b} \log
        \frac{\exp(\hat{u}_b^\top \hat{i}_b / \tau)}
             {\sum_{b'} \exp(\hat{u}_b^\top \hat{u}_{b'} / \tau) +
              \sum_{b'} \exp(\hat{i}_b^\top \hat{i}_{b'} / \tau)}

    The interacted pair is the positive; the other users and items of the batch push the
    representations apart (uniformity), so recommendation and contrast share one direction.
    Plus the usual L2 term on the batch's ego embeddings. Default tau 0.2 (LLMInit paper).

    Args:
        num_users (int), num_items (int), embedding_dim (int), num_layers (int),
        reg_weight (float): As in :class:`~pyg_llminit.models.LightGCN`.
        tau (float): Temperature (> 0). (default: :obj:`0.2`)

    Shapes:
        - forward: adjacency ``[U+I, U+I]`` -> users ``[U, d]``, items ``[I, d]``
        - loss: ``user, pos`` of shape ``[B]`` (``neg`` is ignored) -> scalar
    """
    needs_negatives = False

    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 128,
                 num_layers: int = 2, reg_weight: float = 1e-5, tau: float = 0.2) -> None:
        super().__init__(num_users, num_items, embedding_dim, num_layers, reg_weight)
        self.tau = check_positive('tau', tau)

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Optional[Tensor] = None
             ) -> Tuple[Tensor, Dict[str, Tensor]]:
        rows = torch.cat([user, pos + self.users_in(adj)])
        unique_rows, inverse, hs = self.batch_layers(adj, rows)
        u, i = F.normalize(self.combine(hs).index_select(0, inverse), dim=-1).chunk(2)
        sgcl = supervised_contrastive_loss(u, i, self.tau)
        reg = self.reg_weight * l2_reg(*hs[0].index_select(0, inverse).chunk(2))
        return sgcl + reg, {'sgcl': sgcl.detach(), 'reg': reg.detach()}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers}, tau={self.tau})')
