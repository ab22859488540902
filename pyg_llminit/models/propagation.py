"""The normalised user-item adjacency that every LightGCN-style backbone propagates over."""
import warnings
from typing import Optional

import torch
from torch import Tensor


class _SymmetricSpMM(torch.autograd.Function):
    r"""``adj @ x`` for a symmetric sparse ``adj``: the gradient ``adj.T @ g`` is
    ``adj @ g``, so backward reuses the same CSR matrix instead of transposing it (what
    ``torch.sparse.mm`` does on every backward call)."""
    @staticmethod
    def forward(ctx, adj: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.adj = adj
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return None, torch.sparse.mm(ctx.adj, grad)


class NormalizedAdjacency:
    r"""Symmetrically normalised bipartite adjacency
    :math:`\hat{A} = D^{-1/2} A D^{-1/2}` over ``num_users + num_items`` nodes (users
    first, then items), as in LightGCN (He et al., SIGIR 2020, Eq. 7).

    Built once per graph and stored in CSR form; :meth:`propagate` computes
    :math:`\hat{A} X` with a backward pass that reuses the same matrix (it is symmetric).
    PyG's ``LGConv`` with ``normalize=True`` instead re-normalises on every call.

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs, shape ``[2, E]``.
        num_users (int): Number of users.
        num_items (int): Number of items.
    """
    def __init__(self, train_index: Tensor, num_users: int, num_items: int,
                 edge_weight: Optional[Tensor] = None) -> None:
        self.num_users, self.num_items = num_users, num_items
        user, item = train_index.cpu()
        item = item + num_users
        row, col = torch.cat([user, item]), torch.cat([item, user])
        num_nodes = num_users + num_items
        weight = torch.ones(row.numel()) if edge_weight is None else edge_weight.repeat(2)
        deg = torch.zeros(num_nodes).index_add_(0, row, weight)
        inv_sqrt = deg.pow(-0.5).masked_fill_(deg == 0, 0.0)
        value = inv_sqrt[row] * weight * inv_sqrt[col]
        coo = torch.sparse_coo_tensor(torch.stack([row, col]), value, (num_nodes, num_nodes),
                                      check_invariants=False).coalesce()
        with warnings.catch_warnings():  # "sparse CSR support is in beta": known, tested
            warnings.simplefilter('ignore', UserWarning)
            self.adj = coo.to_sparse_csr()

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    def to(self, device: torch.device) -> 'NormalizedAdjacency':
        self.adj = self.adj.to(device)
        return self

    def propagate(self, x: Tensor) -> Tensor:
        r"""``[N, d] -> [N, d]``: one propagation step :math:`\hat{A} X`."""
        return _SymmetricSpMM.apply(self.adj, x)

    def to_dense(self) -> Tensor:
        return self.adj.to_dense()

    def coo(self) -> Tensor:
        r"""``[2, nnz]`` indices of the non-zeros."""
        return self.adj.to_sparse_coo().coalesce().indices()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(users={self.num_users}, items={self.num_items}, '
                f'nnz={self.adj._nnz()})')


def normalized_adjacency(train_index: Tensor, num_users: int,
                         num_items: int) -> NormalizedAdjacency:
    r"""Builds the :class:`NormalizedAdjacency` of the training interactions."""
    return NormalizedAdjacency(train_index, num_users, num_items)
