"""LightGCN recommender on top of PyG's :class:`~torch_geometric.nn.models.LightGCN`."""
from typing import Dict, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.models import LightGCN as PyGLightGCN

from .base import Recommender, bpr_loss, l2_reg


class LightGCN(Recommender):
    r"""LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network
    for Recommendation", SIGIR 2020) for a user-item graph, trained with BPR.

    The parameters and propagation are PyG's :class:`~torch_geometric.nn.models.LightGCN`
    (layer mean with :math:`\alpha_l = 1/(L+1)`); its ``LGConv`` layers run with
    ``normalize=False`` over the pre-normalised adjacency of
    :func:`~pyg_llminit.models.propagation.normalized_adjacency`, built once per graph.

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

    def forward(self, adj) -> Tuple[Tensor, Tensor]:
        out = self.gnn.get_embedding(adj)
        return out[:self.num_users], out[self.num_users:]

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, float]]:
        user_out, item_out = self(adj)
        u = user_out[user]
        rec = bpr_loss((u * item_out[pos]).sum(-1), (u * item_out[neg]).sum(-1))
        user_ego, item_ego = self.ego_embeddings()
        reg = self.reg_weight * l2_reg(user_ego[user], item_ego[pos], item_ego[neg])
        return rec + reg, {'bpr': float(rec), 'reg': float(reg)}

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, {self.num_items}, '
                f'dim={self.embedding_dim}, num_layers={self.num_layers})')
