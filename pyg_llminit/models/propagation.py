r"""Propagation over the normalised user-item adjacency, in one place: the symmetric
normalisation :math:`\hat{A} = D^{-1/2} A D^{-1/2}` (:func:`inverse_sqrt_degree`, the one
function every adjacency here is normalised with), the adjacency types backbones propagate
over, the whole training graph (:class:`NormalizedAdjacency`) or a sampled subgraph of it
(:class:`SubgraphAdjacency`), their sparse kernels, and the layer loop that LightGCN, SGL,
SGCL, SimGCL and XSimGCL share (:func:`propagate_layers`).

Both adjacency types expose the same interface: node counts (users first, then items),
:meth:`~NormalizedAdjacency.rows_of` (a node table's rows for the adjacency's nodes),
products with :math:`\hat{A}`, and :meth:`~NormalizedAdjacency.drop_edges` (SGL's views).
:attr:`~NormalizedAdjacency.sampled` tells the two apart.
"""
import warnings
from typing import Callable, List, Optional

import torch
from torch import Tensor


def inverse_sqrt_degree(train_index: Tensor, num_users: int, num_items: int,
                        edge_weight: Optional[Tensor] = None) -> Tensor:
    r""":math:`D^{-1/2}` of the bipartite training graph, ``[num_users + num_items]`` (users
    first, then items), ``0`` for a node without edges.

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs ``[2, E]``.
        num_users (int), num_items (int): Node counts.
        edge_weight (Tensor, optional): Weights ``[E]`` (default: all ones).
    """
    user, item = train_index
    weight = torch.ones(user.numel(), device=user.device) if edge_weight is None \
        else edge_weight
    deg = torch.zeros(num_users + num_items, dtype=weight.dtype, device=user.device)
    deg.index_add_(0, user, weight).index_add_(0, item + num_users, weight)
    return deg.pow(-0.5).masked_fill_(deg == 0, 0.0)


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
        inv_sqrt = inverse_sqrt_degree(self.train_index, num_users, num_items, edge_weight)
        weight = torch.ones(row.numel()) if edge_weight is None else edge_weight.repeat(2)
        value = inv_sqrt[row] * weight * inv_sqrt[col]
        self.adj = symmetric_csr(row, col, value, num_users + num_items)

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

    @classmethod
    def of_sample(cls, pairs: Tensor, user_id: Tensor, item_id: Tensor, inv_sqrt: Tensor,
                  num_users: int) -> 'SubgraphAdjacency':
        r"""The subgraph of sampled local ``(user, item)`` :obj:`pairs` ``[2, E]`` (without
        duplicates), weighted :math:`1/\sqrt{d_u d_i}` with the FULL training graph's
        degrees (:obj:`inv_sqrt` from :func:`inverse_sqrt_degree`), so a node keeps the
        scale it has in full-graph propagation.

        Args:
            user_id (Tensor), item_id (Tensor): Global ids of the local users and items.
            num_users (int): Global number of users (the offset of items in the tables).
        """
        weight = inv_sqrt[user_id[pairs[0]]] * inv_sqrt[item_id[pairs[1]] + num_users]
        node_id = torch.cat([user_id, item_id + num_users])
        return cls(pairs, weight, user_id.numel(), item_id.numel(), node_id)

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


def _csr_mm(adj: Tensor, x: Tensor) -> Tensor:
    r"""``adj @ x`` for a CSR ``adj``. ``addmm`` into a fresh output with ``beta=0`` skips
    the zero-fill and result copy of ``torch.sparse.mm``, which the product's time on CPU
    is mostly made of at d = 128 (see benchmarks/)."""
    out = torch.empty(adj.size(0), x.size(1), dtype=x.dtype, device=x.device)
    return torch.addmm(out, adj, x, beta=0, out=out)


class _SymmetricSpMM(torch.autograd.Function):
    r"""``adj @ x`` for a symmetric sparse ``adj``: the gradient ``adj.T @ g`` is
    ``adj @ g``, so backward reuses the same CSR matrix instead of transposing it (what
    ``torch.sparse.mm`` does on every backward call)."""
    @staticmethod
    def forward(ctx, adj: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.adj = adj
        return _csr_mm(adj, x)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return None, _csr_mm(ctx.adj, grad.contiguous())


class _RowsSpMM(torch.autograd.Function):
    r"""``(adj @ x)[rows]`` for a symmetric CSR ``adj`` and unique ``rows``: only the
    selected rows are multiplied, and backward multiplies by ``adj[:, rows]``, the transpose
    of the forward's block ``adj[rows, :]`` (by symmetry)."""
    @staticmethod
    def forward(ctx, prop: 'NormalizedAdjacency', rows: Tensor,  # type: ignore[override]
                x: Tensor) -> Tensor:
        ctx.block, ctx.num_nodes = prop.row_block(rows), prop.num_nodes
        return _csr_mm(ctx.block, x)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return None, None, _csr_mm(transposed_block(ctx.block, ctx.num_nodes),
                                   grad.contiguous())


class _LayerRows(torch.autograd.Function):
    r"""Rows ``rows`` (unique) of every layer of plain LightGCN propagation,
    ``[L+1, R, d]``, in one autograd node.

    Propagation is linear, so backward needs no activations: it walks the layers down,
    accumulating the gradient of every layer into one ``[N, d]`` buffer in place
    (:math:`g_{l-1} = \hat{A} g_l + \mathrm{scatter}_{rows}(\partial h_{l-1}[rows])`).
    Autograd over separate products, gathers and sums would instead fill, scatter and add
    several ``[N, d]`` buffers per step, a large share of a Beauty training step's time
    (batch 2048, benchmarks/RESULTS.md)."""
    @staticmethod
    def forward(ctx, prop: 'NormalizedAdjacency', rows: Tensor,  # type: ignore[override]
                num_layers: int, x: Tensor) -> Tensor:
        ctx.prop, ctx.rows, ctx.num_layers = prop, rows, num_layers
        out, h = [x.index_select(0, rows)], x
        for _ in range(num_layers - 1):
            h = _csr_mm(prop.adj, h)
            out.append(h.index_select(0, rows))
        if num_layers:  # the last layer only for the rows
            ctx.block = prop.row_block(rows)
            out.append(_csr_mm(ctx.block, h))
        return torch.stack(out)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        prop, rows, num_layers = ctx.prop, ctx.rows, ctx.num_layers
        if num_layers == 0:
            acc = grad.new_zeros(prop.num_nodes, grad.size(-1))
            return None, None, None, acc.index_add_(0, rows, grad[0])
        acc = _csr_mm(transposed_block(ctx.block, prop.num_nodes),
                      grad[num_layers].contiguous())
        for layer in range(num_layers - 1, -1, -1):
            acc.index_add_(0, rows, grad[layer])
            if layer:
                acc = _csr_mm(prop.adj, acc)
        return None, None, None, acc


def transposed_block(block: Tensor, num_nodes: int) -> Tensor:
    r"""``adj[:, rows]`` ``[N, R]`` (CSR) from the block ``adj[rows, :]`` ``[R, N]`` of a
    symmetric ``adj``: the transpose, by a stable sort of the block's columns (linear in
    the block's non-zeros, not the graph's)."""
    crow, col, val = block.crow_indices(), block.col_indices(), block.values()
    row = torch.repeat_interleave(torch.arange(block.size(0), device=col.device), crow.diff())
    order = torch.sort(col, stable=True).indices
    count = torch.bincount(col, minlength=num_nodes)
    new_crow = torch.cat([count.new_zeros(1), torch.cumsum(count, 0)])
    return torch.sparse_csr_tensor(new_crow, row[order], val[order], (num_nodes, block.size(0)),
                                   check_invariants=False)


def propagate_layers(adj: 'NormalizedAdjacency', x: Tensor, num_layers: int,
                     rows: Optional[Tensor] = None,
                     perturb: Optional[Callable[[Tensor], Tensor]] = None,
                     first: Optional[Tensor] = None) -> List[Tensor]:
    r"""The outputs of LightGCN-style propagation, :math:`[h_0, \dots, h_L]` with
    :math:`h_0 = x` and :math:`h_{l+1} = \mathrm{perturb}(\hat{A} h_l)`, shared by LightGCN,
    SGL, SGCL, SimGCL and XSimGCL.

    Args:
        adj (NormalizedAdjacency): The graph.
        x (Tensor): Layer-0 embeddings ``[N, d]``.
        num_layers (int): ``L``.
        rows (Tensor, optional): Unique rows the caller needs. Then every returned layer is
            ``[len(rows), d]`` and the last one multiplies only those rows of the adjacency
            (exact; a third of the work for a Beauty batch).
        perturb (callable, optional): Applied to each layer's output (SimGCL's noise).
        first (Tensor, optional): :math:`\hat{A} x` ``[N, d]`` when the caller already has
            it (SimGCL's clean and noisy passes share their first product).
    """
    if rows is not None and perturb is None and first is None:
        return adj.propagate_layer_rows(x, num_layers, rows)  # the training step's path
    hs = [x]
    for i in range(num_layers):
        last = rows is not None and i == num_layers - 1
        if i == 0 and first is not None:
            h = first.index_select(0, rows) if last else first
        else:
            h = adj.propagate_rows(hs[-1], rows) if last else adj.propagate(hs[-1])
        hs.append(perturb(h) if perturb is not None else h)
    if rows is not None:  # the last layer is already restricted to rows
        hs = [h.index_select(0, rows) for h in hs[:-1]] + hs[-1:] if num_layers else \
            [x.index_select(0, rows)]
    return hs


__all__ = ['NormalizedAdjacency', 'SubgraphAdjacency', 'normalized_adjacency',
           'inverse_sqrt_degree', 'symmetric_csr', 'propagate_layers', 'transposed_block']
