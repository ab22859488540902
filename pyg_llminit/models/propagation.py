"""Sparse propagation kernels over a normalised adjacency (see :mod:`.adjacency`) and the
layer loop that LightGCN, SGL, SGCL, SimGCL and XSimGCL share."""
from typing import TYPE_CHECKING, Callable, List, Optional

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .adjacency import NormalizedAdjacency


def _csr_mm(adj: Tensor, x: Tensor) -> Tensor:
    r"""``adj @ x`` for a CSR ``adj``. ``addmm`` into a fresh output with ``beta=0`` skips
    the zero-fill and result copy of ``torch.sparse.mm``: 2.5x faster on CPU for Beauty
    (9 ms instead of 22 ms at d = 128; see benchmarks/)."""
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
    several ``[N, d]`` buffers per step: on Beauty (batch 2048, this project's 2-core CPU)
    a whole step took 34 ms instead of 47 ms."""
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
