"""The normalised user-item adjacency that every LightGCN-style backbone propagates over."""
import torch
from torch import Tensor
from torch_sparse import SparseTensor


def normalized_adjacency(train_index: Tensor, num_users: int, num_items: int) -> SparseTensor:
    r"""Symmetrically normalised bipartite adjacency
    :math:`\hat{A} = D^{-1/2} A D^{-1/2}` over ``num_users + num_items`` nodes (users
    first, then items), as in LightGCN (He et al., SIGIR 2020, Eq. 7).

    Built once per graph: the result caches its CSR, CSC and transposition permutation, so
    forward and backward sparse products never re-normalise or re-sort (PyG's ``LGConv``
    with ``normalize=True`` recomputes the normalisation on every call).

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs, shape ``[2, E]``.
        num_users (int): Number of users.
        num_items (int): Number of items.

    Returns:
        A :class:`torch_sparse.SparseTensor` of shape ``[N, N]``, ``N = num_users +
        num_items``, with ``2 * E`` non-zeros (it is symmetric, so it is its own ``adj_t``).
    """
    user, item = train_index
    item = item + num_users
    row = torch.cat([user, item])
    col = torch.cat([item, user])
    num_nodes = num_users + num_items
    deg = torch.bincount(row, minlength=num_nodes).float()
    inv_sqrt = deg.pow(-0.5).masked_fill_(deg == 0, 0.0)
    value = inv_sqrt[row] * inv_sqrt[col]
    adj = SparseTensor(row=row, col=col, value=value, sparse_sizes=(num_nodes, num_nodes))
    adj.storage.rowptr()
    adj.storage.csr2csc()  # cached for the backward pass (transposed product)
    adj.storage.colptr()
    return adj
