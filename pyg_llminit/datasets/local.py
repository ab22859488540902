"""The user's own interaction files -> :class:`~torch_geometric.data.HeteroData`.

Two layouts are read (with the :mod:`csv` module, no pandas):

* RecBole atomic files (Zhao et al., "RecBole: Towards a Unified, Comprehensive and
  Efficient Framework for Recommendation Algorithms", CIKM 2021; format described at
  https://recbole.io/docs/user_guide/data/atomic_files.html): ``NAME.inter`` and optional
  ``NAME.item``, tab-separated with a ``field:type`` header;
* a pair of CSV files: ``interactions.csv`` and optional ``items.csv``, with a header.

The module also holds the small helpers shared by the file-reading loaders (number parsing
with file/line in the error, filter checks, downloads that fail with a clear message).
"""
import csv
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

from torch_geometric.data import HeteroData

from ..errors import DataError, UserInputError
from .base import check_filters, parse_number
from .graph import build_interaction_graph

USER_COLUMNS = ('user_id', 'user')
ITEM_COLUMNS = ('item_id', 'item')
TEXT_TYPES = ('token', 'token_seq')


def _rows(path: str, delimiter: str) -> Tuple[List[str], List[Tuple[int, List[str]]]]:
    r"""Header and ``(line number, fields)`` rows of a delimited text file."""
    if not osp.isfile(path):
        raise DataError(f'{path}: ' + ('not a regular file (a pipe or a device?)'
                                            if osp.exists(path) else 'no such file'))
    quoting = csv.QUOTE_NONE if delimiter == '\t' else csv.QUOTE_MINIMAL
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            reader = csv.reader(f, delimiter=delimiter, quoting=quoting)
            header = next(reader, None)
            rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f'{path}: cannot read ({e})') from None
    if not header:
        raise DataError(f'{path}: empty file (a header line is required)')
    for line, row in rows:
        if len(row) != len(header):
            raise DataError(f'{path}: line {line}: {len(row)} fields, expected '
                            f'{len(header)} (the header has {len(header)} columns)')
    return [h.strip() for h in header], rows


def _column(header: List[str], names: Tuple[str, ...], path: str,
            required: bool = True) -> Optional[int]:
    for name in names:
        if name in header:
            return header.index(name)
    if required:
        raise DataError(f"{path}: missing column '{names[0]}' (columns: "
                        f"{', '.join(header)})")
    return None


def _interactions(path: str, header: List[str], rows: List[Tuple[int, List[str]]],
                  rating_names: Tuple[str, ...], time_names: Tuple[str, ...]) -> Dict:
    if not rows:
        raise DataError(f'{path}: no interactions')
    u = _column(header, USER_COLUMNS, path)
    i = _column(header, ITEM_COLUMNS, path)
    r = _column(header, rating_names, path, required=False)
    t = _column(header, time_names, path, required=False)
    _check_ids(path, rows, {'user': u, 'item': i})
    out = {'user_ids': [row[u] for _, row in rows], 'item_ids': [row[i] for _, row in rows]}
    if r is not None:
        out['rating'] = [parse_number(row[r], path, n, header[r]) for n, row in rows]
    if t is not None:
        out['time'] = [parse_number(row[t], path, n, header[t], True) for n, row in rows]
    return out


#: Characters an id may not hold: a newline would split a row of an exported id list.
_CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029]')


def _check_ids(path: str, rows: List[Tuple[int, List[str]]], columns: Dict[str, int]) -> None:
    r"""Refuses an id that holds a newline, tab or other control character, naming its
    line: ids are written one per line by ``export`` and ``recommend``."""
    for kind, c in columns.items():
        for line, row in rows:
            if _CONTROL.search(row[c]):
                raise DataError(f'{path}: line {line}: {kind} id {row[c]!r} holds a '
                                'control character (newline, tab, ...); ids must be '
                                'one line of text')


def _item_text(path: str, header: List[str], rows: List[Tuple[int, List[str]]],
               columns: Dict[str, int], unique: bool = False) -> Dict[str, Dict[str, str]]:
    i = _column(header, ITEM_COLUMNS, path)
    _check_ids(path, rows, {'item': i})
    if unique:
        seen: Dict[str, int] = {}
        for line, row in rows:
            if row[i] in seen:
                raise DataError(f'{path}: line {line}: item id {row[i]!r} repeats line '
                                f'{seen[row[i]]}')
            seen[row[i]] = line
    if 'title' not in columns:
        raise DataError(f"{path}: missing column 'title' (columns: {', '.join(header)})")
    return {field: {row[i]: row[c] for _, row in rows} for field, c in columns.items()}


def read_items(path: str, unique: bool = False) -> Dict[str, Dict[str, str]]:
    r"""The text fields of an items file, ``{field: {item id: text}}`` (a ``title`` field
    required): a RecBole ``.item`` file (tab-separated, ``field:type`` header, text-typed
    fields; MovieLens' ``movie_title`` read as ``title``) or, for any other name, a CSV
    file with a header (an ``item_id`` or ``item`` column, every other column text). With
    :obj:`unique`, a repeated item id is an error (otherwise the last row wins)."""
    if path.endswith('.item'):
        header, rows = _rows(path, '\t')
        names = [h.split(':')[0] for h in header]
        columns = {name: c for c, (name, h) in enumerate(zip(names, header))
                   if name not in ITEM_COLUMNS and h.partition(':')[2] in TEXT_TYPES}
        if 'title' not in columns and 'movie_title' in columns:  # RecBole's MovieLens
            columns['title'] = columns.pop('movie_title')
        return _item_text(path, names, rows, columns, unique)
    header, rows = _rows(path, ',')
    columns = {name: c for c, name in enumerate(header) if name not in ITEM_COLUMNS}
    return _item_text(path, header, rows, columns, unique)


def _read_atomic(inter: str) -> Tuple[Dict, Optional[Dict[str, Dict[str, str]]]]:
    header, rows = _rows(inter, '\t')
    if len(header) == 1 and ',' in header[0]:
        raise DataError(f'{inter}: RecBole atomic files are tab-separated, but its header '
                        'is one column holding commas (a CSV file? name it .csv)')
    names = [h.split(':')[0] for h in header]
    data = _interactions(inter, names, rows, ('rating',), ('timestamp',))
    item = osp.splitext(inter)[0] + '.item'
    return data, read_items(item) if osp.isfile(item) else None


def _read_csv(inter: str) -> Tuple[Dict, Optional[Dict[str, Dict[str, str]]]]:
    header, rows = _rows(inter, ',')
    data = _interactions(inter, header, rows, ('rating',), ('timestamp', 'time'))
    item = osp.join(osp.dirname(inter), 'items.csv')
    return data, read_items(item) if osp.isfile(item) else None


def has_rating_column(path: str) -> bool:
    r"""Whether the local graph at :obj:`path` has a ``rating`` column (read from its
    header line alone); a graph that cannot be found is left to the loader to report."""
    try:
        inter = find_interactions(path)
        with open(inter, encoding='utf-8-sig') as f:
            header = f.readline().rstrip('\r\n')
    except (UserInputError, OSError, UnicodeDecodeError):
        return True
    names = header.split('\t' if inter.endswith('.inter') else ',')
    return 'rating' in (name.split(':')[0].strip() for name in names)


def find_interactions(path: str) -> str:
    r"""The interaction file of a local dataset: :obj:`path` itself (a ``.inter`` or
    ``.csv`` file) or the one file of a folder (``*.inter``, else ``interactions.csv``)."""
    if osp.isfile(path):
        if path.endswith(('.inter', '.csv')):
            return path
        raise UserInputError(f'{path}: expected a RecBole .inter file, a .csv file or a folder')
    if not osp.isdir(path):
        raise UserInputError(f'{path}: ' + ('not a regular file or folder (a pipe or a '
                                            'device?)' if osp.exists(path)
                                            else 'no such file or folder'))
    inters = sorted(f for f in os.listdir(path) if f.endswith('.inter'))
    if len(inters) > 1:
        own = osp.basename(osp.normpath(path)) + '.inter'
        if own not in inters:
            raise UserInputError(f"{path}: several .inter files ({', '.join(inters)}); "
                                 'pass the one to use')
        inters = [own]
    if inters:
        return osp.join(path, inters[0])
    if osp.isfile(osp.join(path, 'interactions.csv')):
        return osp.join(path, 'interactions.csv')
    raise UserInputError(f'{path}: no NAME.inter (RecBole atomic files) or interactions.csv')


def load_local_graph(path: str, min_rating: Optional[float] = None,
                     k_core: int = 0) -> HeteroData:
    r"""Reads a local dataset into the package's bipartite graph (not cached: the files
    are the user's own).

    Layouts: (a) RecBole atomic files (Zhao et al., CIKM 2021): ``NAME.inter`` with a
    ``field:type`` header holding ``user_id`` and ``item_id`` (``rating`` and ``timestamp``
    optional), and optional ``NAME.item`` with ``item_id`` and text columns of type
    ``token``/``token_seq`` (each kept as an item text field under its name; ``title``
    required); (b) ``interactions.csv`` (header; ``user_id``/``user``,
    ``item_id``/``item``, optional ``rating``, ``timestamp``/``time``) with an optional
    ``items.csv`` (``item_id``/``item``, ``title`` and further text columns).

    Args:
        path (str): The folder, or the ``.inter``/``interactions.csv`` file.
        min_rating (float, optional): Keep interactions with ``rating >= min_rating``.
        k_core (int): Iterative k-core filter (``0``: none).

    Raises:
        UserInputError: For a missing file or column, a malformed line or a graph left
            empty by the filters.
    """
    min_rating, k_core = check_filters(min_rating, k_core)
    inter = find_interactions(str(path))
    data, text = (_read_atomic if inter.endswith('.inter') else _read_csv)(inter)
    if min_rating is not None and 'rating' not in data:
        raise DataError(f'{inter}: min_rating={min_rating:g} needs a rating column')
    return build_interaction_graph(data['user_ids'], data['item_ids'], time=data.get('time'),
                                   rating=data.get('rating'), item_text=text,
                                   min_rating=min_rating, k_core=k_core, name=inter)
