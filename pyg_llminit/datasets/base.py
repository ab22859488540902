"""What every cached interaction dataset shares: a root under ``$PYG_LLMINIT_HOME``, one
processed file, and processing through :func:`~.graph.build_interaction_graph`."""
import math
import os
import os.path as osp
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from torch_geometric.data import InMemoryDataset
from torch_geometric.data.dataset import files_exist

from ..errors import DataError, UserInputError
from ..io import atomic_path, check_folder, file_lock, load_torch, pyg_llminit_home
from .graph import build_interaction_graph


def default_root(name: str) -> str:
    r"""Where processed graphs are cached: ``$PYG_LLMINIT_HOME/<name>``, by default under
    ``~/.cache/pyg-llminit``."""
    return str(pyg_llminit_home() / name)


#: Integers (timestamps, indices) must fit the int64 tensors they end up in.
INT64_MAX = 2 ** 63 - 1
FLOAT32_MAX = 3.4028234663852886e38


def parse_number(value: str, path: str, line: int, column: str, integer: bool = False):
    r"""Parses :obj:`value` as a finite float (or an int64, accepting ``'12.0'``), raising
    a :class:`UserInputError` that names the file, line and column."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{path}: line {line}: column '{column}': cannot parse "
                        f"{value!r} as a number") from None
    if not math.isfinite(number):
        raise DataError(f"{path}: line {line}: column '{column}': {value!r} is not a "
                        'finite number')
    if integer and abs(number) > INT64_MAX:
        raise DataError(f"{path}: line {line}: column '{column}': {value!r} is out of "
                        'the 64-bit integer range')
    if not integer and abs(number) > FLOAT32_MAX:  # ratings are stored as float32
        raise DataError(f"{path}: line {line}: column '{column}': {value!r} is out of "
                        'the 32-bit float range')
    return int(number) if integer else number


def ratings_from_rows(rows: Iterable[Tuple[int, List[str]]], path: str, layout: str,
                      min_rating: Optional[float] = None) -> Dict[str, list]:
    r"""``user, item, rating, timestamp`` rows -> the rating lists of
    :func:`~.graph.build_interaction_graph`, dropping ratings below :obj:`min_rating` while
    reading (to save memory). Shared by every raw ratings file format.

    Args:
        rows (Iterable): ``(line number, fields)`` per non-empty line.
        path (str): The file, for error messages.
        layout (str): The expected fields as the file writes them, for error messages.
        min_rating (float, optional): Keep ratings ``>= min_rating``.
    """
    out: Dict[str, list] = {'user_ids': [], 'item_ids': [], 'rating': [], 'time': []}
    for line, fields in rows:
        if len(fields) != 4:
            raise DataError(f'{path}: line {line}: {len(fields)} fields, expected 4 '
                            f'({layout})')
        rating = parse_number(fields[2], path, line, 'rating')
        if min_rating is not None and rating < min_rating:
            continue
        out['user_ids'].append(fields[0].strip())
        out['item_ids'].append(fields[1].strip())
        out['rating'].append(rating)
        out['time'].append(parse_number(fields[3], path, line, 'timestamp', True))
    return out


def check_filters(min_rating: Optional[float], k_core: int) -> Tuple[Optional[float], int]:
    r"""Validates the rating threshold and the k-core size."""
    if min_rating is not None:
        try:
            min_rating = float(min_rating)
        except (TypeError, ValueError):
            raise UserInputError(f'min_rating must be a number (got {min_rating!r})') from None
    if isinstance(k_core, bool) or not isinstance(k_core, int) or k_core < 0:
        raise UserInputError(f'k_core must be an integer >= 0 (got {k_core!r})')
    return min_rating, k_core


def filter_tag(min_rating: Optional[float], k_core: int) -> str:
    r"""A file-name tag for a filter, e.g. ``'r4_k5'`` or ``'rall_k0'``."""
    return f"r{'all' if min_rating is None else format(min_rating, 'g')}_k{k_core}"


def fetch(url: str, folder: str, filename: Optional[str] = None, **pins: Any) -> str:
    r"""Downloads :obj:`url` into :obj:`folder` (see
    :func:`~pyg_llminit.datasets.download.download`: https, retries, a fresh temporary
    file, the pinned ``size``/``sha256``/``md5`` of :obj:`pins`)."""
    from .download import download
    path = osp.join(folder, filename or url.rpartition('/')[2])
    return str(download(url, path, **pins))


class InteractionDataset(InMemoryDataset):
    r"""A single bipartite user-item graph (see :mod:`pyg_llminit.datasets.graph`),
    processed once and cached as a PyG :class:`~torch_geometric.data.InMemoryDataset`.

    Subclasses implement :meth:`read`, returning the keyword arguments of
    :func:`~pyg_llminit.datasets.graph.build_interaction_graph` for their raw files.

    Args:
        root (str, optional): Dataset folder (default: ``default_root(name)``).
        name (str): Folder name under ``$PYG_LLMINIT_HOME`` when :obj:`root` is not given.
        transform (callable, optional): Applied on every access.
        pre_transform (callable, optional): Applied once before saving.
        force_reload (bool): Re-process even if a cache exists.
    """
    def __init__(self, root: Optional[str], name: str, transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None, force_reload: bool = False) -> None:
        root = root or default_root(name)
        check_folder(root, 'root')
        # one process at a time downloads and processes a root; the others wait, then read
        with file_lock(osp.join(root, '.lock')):
            super().__init__(root, transform, pre_transform, force_reload=force_reload)
            self._load_processed()

    def _process(self) -> None:
        r"""PyG's ``Dataset._process`` without its ``pre_transform.pt`` and
        ``pre_filter.pt`` files, which PyG reads back with ``weights_only=False``: a file
        planted in the cache folder would run code. The processed graph is built when it is
        missing, or on ``force_reload``."""
        if not self.force_reload and files_exist(self.processed_paths):
            return
        os.makedirs(self.processed_dir, exist_ok=True)
        self.process()

    def _load_processed(self) -> None:
        r"""Loads the processed graph with ``weights_only=True`` and no fallback (PyG's own
        loader retries some files with ``weights_only=False``); a file that cannot be read
        that way (truncated, corrupt, planted) is rebuilt from the raw files."""
        path = self.processed_paths[0]
        if osp.isdir(path):  # not ours to delete
            raise DataError(f'{path}: a folder where the processed graph file belongs; '
                            'remove it to rebuild the graph')
        try:
            data, self.slices, data_cls = load_torch(path)
        except Exception as e:  # noqa: BLE001 - any unreadable file: rebuild it
            warnings.warn(f'{path}: unreadable processed graph ({type(e).__name__}); '
                          'rebuilding it from the raw files', stacklevel=3)
            self.process()
            data, self.slices, data_cls = load_torch(path)
        self.data = data_cls.from_dict(data) if isinstance(data, dict) else data

    def read(self) -> Dict[str, Any]:  # pragma: no cover - abstract
        r"""Raw files -> keyword arguments of ``build_interaction_graph``."""
        raise NotImplementedError

    def process(self) -> None:
        data = build_interaction_graph(**self.read())
        if self.pre_transform is not None:
            data = self.pre_transform(data)
        with atomic_path(self.processed_paths[0]) as tmp:  # never a half-written cache
            self.save([data], str(tmp))
