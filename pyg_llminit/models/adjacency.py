"""The adjacency types backbones propagate over: the whole training graph
(:class:`NormalizedAdjacency`) or a sampled subgraph of it (:class:`SubgraphAdjacency`).

Both expose the same interface: node counts (users first, then items), :meth:`rows_of` (a
node table's rows for the adjacency's nodes), products with :math:`\\hat{A}`, and
:meth:`drop_edges` (SGL's views). :attr:`sampled` tells the two apart.
"""
import warnings
from typing import List, Optional

import torch
from torch import Tensor

from .propagation import _LayerRows, _RowsSpMM, _SymmetricSpMM


def symmetric_csr(row: Tensor, col: Tensor, value: Tensor, num_nodes: int) -> Tensor:
    r"""A ``[N, N]`` CSR matrix from COO entries (duplicates summed)."""
    coo = torch.sparse_coo_tensor(torch.stack([row, col]), value, (num_nodes, num_nodes),
                                  check_invariants=False).coalesce()
    with warnings.catch_warnings():  # "sparse CSR support is in beta": known, tested
        warnings.simplefilter('ignore', UserWarning)
        return coo.to_sparse_csr()


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
    #: Whether the nodes are a sampled subset of the graph (:class:`SubgraphAdjacency`).
    sampled: bool = False

    def __init__(self, train_index: Tensor, num_users: int, num_items: int,
                 edge_weight: Optional[Tensor] = None) -> None:
        self.num_users, self.num_items = num_users, num_items
        self.train_index = train_index.cpu()
        user, item = self.train_index
        item = item + num_users
        row, col = torch.cat([user, item]), torch.cat([item, user])
        num_nodes = num_users + num_items
        weight = torch.ones(row.numel()) if edge_weight is None else edge_weight.repeat(2)
        deg = torch.zeros(num_nodes).index_add_(0, row, weight)
        inv_sqrt = deg.pow(-0.5).masked_fill_(deg == 0, 0.0)
        value = inv_sqrt[row] * weight * inv_sqrt[col]
        self.adj = symmetric_csr(row, col, value, num_nodes)

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    def to(self, device: torch.device) -> 'NormalizedAdjacency':
        self.adj = self.adj.to(device)
        return self

    def drop_edges(self, ratio: float, generator: Optional[torch.Generator] = None
                   ) -> 'NormalizedAdjacency':
        r"""A new adjacency of a random ``1 - ratio`` share of the interactions,
        re-normalised with its own degrees, on the same device: SGL's edge-dropout view
        (Wu et al., SIGIR 2021, Eq. 5)."""
        num = self.train_index.size(1)
        keep = torch.randperm(num, generator=generator)[:round(num * (1 - ratio))]
        view = NormalizedAdjacency(self.train_index[:, keep.sort().values], self.num_users,
                                   self.num_items)
        return view.to(self.adj.device)

    def rows_of(self, table: Tensor) -> Tensor:
        r"""The rows of a node table ``[U+I, d]`` (users first) for this adjacency's nodes,
        in its numbering: the whole table for the full graph."""
        return table

    def propagate(self, x: Tensor) -> Tensor:
        r"""``[N, d] -> [N, d]``: one propagation step :math:`\hat{A} X`."""
        return _SymmetricSpMM.apply(self.adj, x)

    def propagate_rows(self, x: Tensor, rows: Tensor) -> Tensor:
        r"""``[N, d] -> [len(rows), d]``: rows :obj:`rows` (unique) of :math:`\hat{A} X`.

        A loss that reads only a batch's rows of the last layer needs only these: on
        Beauty with batch 2048 this touches about a third of the non-zeros."""
        return _RowsSpMM.apply(self, rows, x)

    def propagate_layer_rows(self, x: Tensor, num_layers: int, rows: Tensor) -> List[Tensor]:
        r"""``[N, d] -> [[len(rows), d]] * (num_layers + 1)``: rows :obj:`rows` (unique) of
        :math:`X, \hat{A} X, \dots, \hat{A}^L X`, the last product restricted to the rows,
        with one fused backward pass (see :class:`_LayerRows`)."""
        return list(_LayerRows.apply(self, rows, num_layers, x).unbind(0))

    def row_block(self, rows: Tensor) -> Tensor:
        r"""CSR ``adj[rows, :]`` of shape ``[len(rows), N]``."""
        crow, col, val = self.adj.crow_indices(), self.adj.col_indices(), self.adj.values()
        start, count = crow[rows], crow[rows + 1] - crow[rows]
        new_crow = torch.cat([count.new_zeros(1), torch.cumsum(count, 0)])
        offset = torch.arange(int(new_crow[-1]), device=col.device)
        offset = offset - torch.repeat_interleave(new_crow[:-1], count)
        take = torch.repeat_interleave(start, count) + offset
        return torch.sparse_csr_tensor(new_crow, col[take], val[take],
                                       (rows.numel(), self.num_nodes), check_invariants=False)

    def to_dense(self) -> Tensor:
        return self.adj.to_dense()

    def coo(self) -> Tensor:
        r"""``[2, nnz]`` indices of the non-zeros."""
        return self.adj.to_sparse_coo().coalesce().indices()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(users={self.num_users}, items={self.num_items}, '
                f'nnz={self.adj._nnz()})')


class SubgraphAdjacency(NormalizedAdjacency):

    r"""The normalised adjacency of a sampled subgraph.

    Args:
        pairs (Tensor): Local ``(user, item)`` pairs ``[2, E]``, without duplicates.
        weight (Tensor): Their weights ``[E]`` (global normalisation).
        num_users (int), num_items (int): Local node counts.
        node_id (Tensor): Global rows (users first, items offset by the global user count)
            of the local nodes, ``[num_users + num_items]``.
    """
    sampled = True

    def __init__(self, pairs: Tensor, weight: Tensor, num_users: int, num_items: int,
                 node_id: Tensor) -> None:
        self.num_users, self.num_items, self.node_id = num_users, num_items, node_id
        self.train_index, self.weight = pairs, weight
        user, item = pairs[0], pairs[1] + num_users
        self.adj = symmetric_csr(torch.cat([user, item]), torch.cat([item, user]),
                                 weight.repeat(2), num_users + num_items)

    def rows_of(self, table: Tensor) -> Tensor:
        r"""Rows :obj:`node_id` of the global table ``[len(node_id), d]`` (backward: an
        ``index_add`` into the table's gradient)."""
        return table.index_select(0, self.node_id)

    def drop_edges(self, ratio: float, generator: Optional[torch.Generator] = None
                   ) -> 'SubgraphAdjacency':
        r"""SGL's edge-dropout view of the subgraph: a random ``1 - ratio`` share of its
        edges, weights scaled by ``1 / (1 - ratio)`` (the expected degree change)."""
        num = self.train_index.size(1)
        keep = torch.randperm(num, generator=generator)[:round(num * (1 - ratio))]
        keep = keep.sort().values.to(self.weight.device)
        view = SubgraphAdjacency(self.train_index[:, keep], self.weight[keep] / (1 - ratio),
                                 self.num_users, self.num_items, self.node_id)
        return view

    def to(self, device: torch.device) -> 'SubgraphAdjacency':
        super().to(device)
        self.node_id = self.node_id.to(device)
        self.train_index, self.weight = self.train_index.to(device), self.weight.to(device)
        return self


def normalized_adjacency(train_index: Tensor, num_users: int,
                         num_items: int) -> NormalizedAdjacency:
    r"""Builds the :class:`NormalizedAdjacency` of the training interactions."""
    return NormalizedAdjacency(train_index, num_users, num_items)


__all__ = ['NormalizedAdjacency', 'SubgraphAdjacency', 'normalized_adjacency',
           'symmetric_csr']
