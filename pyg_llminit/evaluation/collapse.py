"""Embedding collapse: how many directions an embedding table really uses.

LLMInit is motivated by dimensional collapse of CF embeddings (arXiv 2503.01814): a table
``[N, d]`` whose singular values decay fast spans far fewer than ``d`` directions. The
effective rank (Roy and Vetterli, EUSIPCO 2007) measures it: with the singular values
``s`` normalised to ``p = s / sum(s)``, ``erank = exp(-sum p log p)``, between 1 (one
direction) and ``min(N, d)`` (all singular values equal). The information abundance
(Guo et al., "On the Embedding Collapse When Scaling Up Recommendation Models", ICML 2024),
``sum(s) / max(s)``, has the same range but weighs the small singular values against the
largest one rather than against each other, so it falls faster when one direction
dominates.
"""
from typing import Dict, List, Sequence

import torch
from torch import Tensor


def singular_values(table: Tensor) -> Tensor:
    r"""The singular values of :obj:`table` ``[N, d]``, largest first, float64
    ``[min(N, d)]`` (computed on the CPU in double precision)."""
    return torch.linalg.svdvals(table.detach().to('cpu', torch.float64))


def effective_rank(table: Tensor) -> float:
    r"""The effective rank of :obj:`table` ``[N, d]``; ``0`` for an all-zero table."""
    s = singular_values(table)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s / total
    p = p[p > 0]  # 0 log 0 = 0
    return float(torch.exp(-(p * p.log()).sum()))


def information_abundance(values: Sequence[float]) -> float:
    r"""``sum(s) / max(s)`` of the singular values :obj:`values`; ``0`` for none or all
    zero."""
    top = max(values, default=0.0)
    return float(sum(values) / top) if top > 0 else 0.0


def abundance_of(record: Dict[str, object]) -> float:
    r"""The information abundance of one table's :func:`collapse_report` record; from its
    spectrum where the record predates the recorded value."""
    if 'information_abundance' in record:
        return float(record['information_abundance'])  # type: ignore[arg-type]
    return information_abundance(record['singular_values'])  # type: ignore[arg-type]


def collapse_report(tables: Dict[str, Tensor]) -> Dict[str, Dict[str, object]]:
    r"""``{name: {'effective_rank': r, 'information_abundance': a, 'dims': d,
    'singular_values': [...]}}`` of every table (the spectrum rounded to 6 significant
    digits for JSON)."""
    out: Dict[str, Dict[str, object]] = {}
    for name, table in tables.items():
        s = singular_values(table).tolist()
        values: List[float] = [float(f'{v:.6g}') for v in s]
        out[name] = {'effective_rank': effective_rank(table),
                     'information_abundance': information_abundance(s),
                     'dims': int(table.size(1)), 'singular_values': values}
    return out


@torch.no_grad()
def model_tables(model, adj) -> Dict[str, Tensor]:
    r"""A trained model's four tables, float32 on the CPU: ``user_ego [U, d]``,
    ``item_ego [I, d]``, ``user_final [U, d']`` and ``item_final [I, d']`` (``d' = d`` but
    for NGCF, which concatenates its layers), from its propagation over :obj:`adj`."""
    model.eval()
    users, items = model(adj)
    ego = model.embedding.weight
    tables = {'user_ego': ego[:model.num_users], 'item_ego': ego[model.num_users:],
              'user_final': users, 'item_final': items}
    return {k: v.detach().float().cpu().contiguous() for k, v in tables.items()}


def collapse_of(model, adj) -> Dict[str, Dict[str, object]]:
    r""":func:`collapse_report` of a trained model's user and item tables: the layer-0
    ``ego`` embeddings (the parameters) and the ``propagated`` ones the model scores with."""
    return collapse_report({name.replace('_final', '_propagated'): table
                            for name, table in model_tables(model, adj).items()})


__all__ = ['singular_values', 'effective_rank', 'information_abundance', 'abundance_of',
           'collapse_report', 'model_tables', 'collapse_of']
