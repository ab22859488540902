"""A finished run's embeddings as plain files, to use outside this package: the trained
user and item tables, layer-0 (``ego``, the parameters; for LLMInit runs they started as
the selected LLM dimensions) and ``final`` (after propagation: what the model scores with,
``score(u, i) = user_final[u] . item_final[i]``), with the id of every row.

Load them back in one line::

    from safetensors.numpy import load_file; tables = load_file('DIR/embeddings.safetensors')

or, with ``fmt='npy'``, ``numpy.load('DIR/item_final.npy')``; row ``r`` of the user
(item) tables is the user (item) on line ``r + 1`` of ``user_ids.txt`` (``item_ids.txt``).
"""
import json
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Union

import torch

from ..errors import invalid
from ..evaluation.collapse import model_tables
from ..io import atomic_path, check_writable_folder

if TYPE_CHECKING:
    from .loading import Run

FORMATS = ('safetensors', 'npy')
TABLES = ('user_ego', 'item_ego', 'user_final', 'item_final')


def run_tables(run: 'Run') -> Dict[str, torch.Tensor]:
    r""":func:`model_tables` of a loaded run."""
    return model_tables(run.model, run.adj)


def check_export(run_dir: Union[str, Path], out: Union[str, Path], fmt: str):
    r"""What :func:`export_run` refuses, checked before the run is loaded: an unknown
    format, an :obj:`out` inside the run folder, holding files, or not writable."""
    if fmt not in FORMATS:
        raise invalid('format', f"must be one of {', '.join(FORMATS)}, got '{fmt}'")
    out, run_dir = Path(out), Path(run_dir)
    if out.resolve() == run_dir.resolve() or run_dir.resolve() in out.resolve().parents:
        raise invalid('out', f'{out} lies in the run folder {run_dir}, whose files only '
                      'train writes: export elsewhere')
    if out.exists() and not out.is_dir():
        raise invalid('out', f'{out} is a file: export writes a folder; choose a new or '
                      'empty one')
    if out.exists() and any(out.iterdir()):
        raise invalid('out', f'{out} already holds files: choose a new or empty folder')
    check_writable_folder(out, 'out')
    return out, run_dir


def export_run(run: 'Run', run_dir: Union[str, Path], out: Union[str, Path],
               fmt: str = 'safetensors') -> List[Path]:
    r"""Writes :func:`run_tables`, ``user_ids.txt``, ``item_ids.txt`` and ``export.json``
    (the run, its config, the tables' shapes, how to load them) into :obj:`out`, a new or
    empty folder outside the run folder; every file is written atomically.

    Returns:
        The files written.
    """
    out, run_dir = check_export(run_dir, out, fmt)
    tables = run_tables(run)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt == 'safetensors':
        from safetensors.torch import save_file
        written.append(out / 'embeddings.safetensors')
        with atomic_path(written[-1]) as tmp:
            save_file(tables, str(tmp), metadata={'run': str(run_dir)})
    else:
        import numpy as np
        for name, table in tables.items():
            written.append(out / f'{name}.npy')
            with atomic_path(written[-1]) as tmp, open(tmp, 'wb') as f:
                np.save(f, table.numpy())
    for kind in ('user', 'item'):
        written.append(out / f'{kind}_ids.txt')
        with atomic_path(written[-1]) as tmp:
            tmp.write_text(''.join(f'{i}\n' for i in run.data[kind].ids))
    load = ("from safetensors.numpy import load_file; "
            f"tables = load_file('{out / 'embeddings.safetensors'}')" if fmt == 'safetensors'
            else f"import numpy; item_final = numpy.load('{out / 'item_final.npy'}')")
    written.append(out / 'export.json')
    with atomic_path(written[-1]) as tmp:
        tmp.write_text(json.dumps({
            'run': str(run_dir), 'config': run.config.to_dict(), 'format': fmt,
            'tables': {k: list(v.shape) for k, v in tables.items()},
            'rows': 'row r of user_* / item_* is line r + 1 of user_ids.txt / item_ids.txt',
            'score': 'user_final[u] . item_final[i]', 'load': load}, indent=2) + '\n')
    return written


__all__ = ['FORMATS', 'TABLES', 'run_tables', 'check_export', 'export_run']
