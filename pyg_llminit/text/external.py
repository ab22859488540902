"""Item vectors made elsewhere (any model, any API) as LLMInit's text embedding ``E``.

Formats, by suffix:

* ``.csv`` / ``.tsv``: one row per item, its id, then its values (a header row is allowed);
* ``.npz``: arrays ``ids`` (strings) and ``embedding`` ``[n, d]``;
* ``.safetensors`` / ``.pt`` (what :func:`~pyg_llminit.text.save_embedding` and
  ``pyg-llminit embed`` write): one ``[num_items, d]`` tensor in the graph's item order.

Rows of the first two are matched to the graph's items by id (extra ids are ignored; a
graph item without a row, a repeated id or a non-finite value is an error).
"""
import csv
from pathlib import Path
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError, UserInputError
from .cache import load_embedding

SUFFIXES = ('.csv', '.tsv', '.npz', '.safetensors', '.pt')


def load_item_vectors(path: Union[str, Path], item_ids: Sequence[str]) -> Tensor:
    r"""The vectors of :obj:`path` for :obj:`item_ids`, ``[len(item_ids), d]`` float32,
    row ``i`` for ``item_ids[i]`` (see the module's docstring for the formats)."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise UserInputError(f"embedding file {path}: unknown format '{path.suffix}' "
                             f"(use one of {', '.join(SUFFIXES)})", param='embedding')
    if not path.is_file():
        raise UserInputError(f'embedding file {path} does not exist', param='embedding')
    if path.suffix in ('.safetensors', '.pt'):
        return load_embedding(path, num_items=len(item_ids))
    ids, vectors = _read_npz(path) if path.suffix == '.npz' else _read_table(path)
    return _match(path, ids, vectors, item_ids)


def _read_npz(path: Path):
    try:
        with np.load(path, allow_pickle=False) as arrays:
            ids = [str(i) for i in arrays['ids'].tolist()]
            vectors = np.asarray(arrays['embedding'], dtype=np.float32)
    except (KeyError, ValueError, OSError) as e:
        raise DataError(f"embedding file {path}: needs arrays 'ids' and 'embedding' "
                        f'({e})', param='embedding') from None
    return ids, vectors


def _read_table(path: Path):
    ids: List[str] = []
    rows: List[List[float]] = []
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f, delimiter='\t' if path.suffix == '.tsv' else ',')
        for line, row in enumerate(reader, 1):
            if not row:
                continue
            try:
                values = [float(v) for v in row[1:]]
            except ValueError:
                if line == 1:  # a header
                    continue
                raise DataError(f'embedding file {path}: line {line}: the values after '
                                'the id must be numbers', param='embedding') from None
            if rows and len(values) != len(rows[0]):
                raise DataError(f'embedding file {path}: line {line} has {len(values)} '
                                f'values, the rows before {len(rows[0])}',
                                param='embedding')
            ids.append(row[0].strip())
            rows.append(values)
    if not rows or not rows[0]:
        raise DataError(f'embedding file {path}: no vectors', param='embedding')
    return ids, np.asarray(rows, dtype=np.float32)


def _match(path: Path, ids: List[str], vectors: np.ndarray, item_ids: Sequence[str]) -> Tensor:
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        raise DataError(f'embedding file {path}: {len(ids)} ids but vectors of shape '
                        f'{tuple(vectors.shape)}', param='embedding')
    row_of: Dict[str, int] = {}
    for row, item in enumerate(ids):
        if item in row_of:
            raise DataError(f"embedding file {path}: item id '{item}' appears twice",
                            param='embedding')
        row_of[item] = row
    missing = [i for i in item_ids if i not in row_of]
    if missing:
        raise DataError(f'embedding file {path}: no vector for {len(missing):,} of the '
                        f"graph's {len(item_ids):,} items (e.g. '{missing[0]}')",
                        param='embedding')
    matched = torch.from_numpy(vectors[[row_of[i] for i in item_ids]])
    if not torch.isfinite(matched).all():
        raise DataError(f'embedding file {path} holds NaN or inf values',
                        param='embedding')
    return matched.float()


__all__ = ['SUFFIXES', 'load_item_vectors']
