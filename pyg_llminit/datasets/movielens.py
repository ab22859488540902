"""MovieLens 100K and 1M (GroupLens), with movie titles and genres as item text."""
import os
import os.path as osp
import zipfile
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from torch_geometric.data import extract_zip

from ..errors import DataError, UserInputError
from .base import (InteractionDataset, check_filters, fetch, filter_tag, parse_number,
                   ratings_from_rows)

URL = 'https://files.grouplens.org/datasets/movielens/ml-{}.zip'
#: The MD5 digests GroupLens publishes beside each archive (``ml-<variant>.zip.md5``; it
#: publishes no SHA-256): a changed or corrupted download is refused.
MD5: Dict[str, str] = {'100k': '0e33842e24a9c977be4e0107933c0723',
                       '1m': 'c4d9eecfca2ab87c1945afe126590906'}
VARIANTS = ('100k', '1m')
#: The 19 genres of ML-100K in the order of the flag columns of ``u.item`` (used when the
#: ``u.genre`` file is absent).
GENRES_100K: List[str] = [
    'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime',
    'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery',
    'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
]
RAW_FILES: Dict[str, Tuple[str, str]] = {
    '100k': ('ml-100k/u.data', 'ml-100k/u.item'),
    '1m': ('ml-1m/ratings.dat', 'ml-1m/movies.dat'),
}


def normalize_variant(variant: str) -> str:
    r"""``'100k'``, ``'ML-100K'``, ``'movielens-1m'`` ... -> ``'100k'`` or ``'1m'``."""
    key = str(variant).lower()
    for prefix in ('movielens', 'ml'):
        key = key[len(prefix):] if key.startswith(prefix) else key
    key = key.lstrip('-_ ')
    if key not in VARIANTS:
        raise UserInputError(f"unknown MovieLens variant '{variant}' (known: "
                             f"{', '.join(VARIANTS)})")
    return key


def _lines(path: str, encoding: str = 'latin-1') -> Iterator[Tuple[int, str]]:
    r"""``(line number, line)`` for the non-blank lines of a text file."""
    if not osp.isfile(path):
        raise DataError(f'{path}: no such file')
    try:
        with open(path, encoding=encoding, newline='') as f:
            for number, line in enumerate(f, start=1):
                line = line.rstrip('\r\n')
                if line.strip():
                    yield number, line
    except UnicodeDecodeError as e:
        raise DataError(f'{path}: cannot read ({e})') from None


def read_ratings(path: str, sep: str) -> Dict[str, list]:
    r"""Reads ``u.data`` (``sep='\t'``) or ``ratings.dat`` (``sep='::'``):
    ``user, item, rating, timestamp`` per line."""
    rows = ((line, text.split(sep)) for line, text in _lines(path))
    out = ratings_from_rows(rows, path, f'user{sep}item{sep}rating{sep}timestamp')
    if not out['user_ids']:
        raise DataError(f'{path}: no ratings')
    return out


def read_items_100k(path: str, genre_path: Optional[str] = None) -> Dict[str, Dict[str, str]]:
    r"""Reads ``u.item`` (``id|title|release date|video release date|IMDb URL|`` and 19
    genre flags, latin-1) into ``{'title': {...}, 'genres': {...}}``; genre names come
    from ``u.genre`` (``name|index``) when it exists."""
    genres = GENRES_100K
    if genre_path is not None and osp.isfile(genre_path):
        pairs = []
        for line, text in _lines(genre_path):
            name, _, index = text.rpartition('|')
            pairs.append((parse_number(index, genre_path, line, 'index', True), name))
        genres = [name for _, name in sorted(pairs)]
    title: Dict[str, str] = {}
    genre: Dict[str, str] = {}
    for line, text in _lines(path):
        fields = text.split('|')
        if len(fields) != 5 + len(genres):
            raise DataError(f'{path}: line {line}: {len(fields)} fields, expected '
                            f'{5 + len(genres)} (id|title|dates|URL|genre flags)')
        title[fields[0]] = fields[1].strip()
        genre[fields[0]] = ', '.join(g for g, flag in zip(genres, fields[5:])
                                     if flag.strip() == '1')
    return {'title': title, 'genres': genre}


def read_items_1m(path: str) -> Dict[str, Dict[str, str]]:
    r"""Reads ``movies.dat`` (``MovieID::Title::Genres``, latin-1, genres separated by
    ``|``) into ``{'title': {...}, 'genres': {...}}`` (genres joined with ``', '``)."""
    title: Dict[str, str] = {}
    genre: Dict[str, str] = {}
    for line, text in _lines(path):
        movie, _, rest = text.partition('::')
        name, sep, genres = rest.rpartition('::')
        if not sep or not movie.strip():
            raise DataError(f'{path}: line {line}: expected MovieID::Title::Genres')
        title[movie.strip()] = name.strip()
        genre[movie.strip()] = ', '.join(g for g in genres.strip().split('|') if g)
    return {'title': title, 'genres': genre}


class MovieLens(InteractionDataset):
    r"""The MovieLens 100K or 1M rating data (Harper and Konstan, "The MovieLens Datasets:
    History and Context", ACM TiiS 5(4), 2015; https://grouplens.org/datasets/movielens/)
    as a bipartite graph with the movie title and genres as item text.

    One :class:`~torch_geometric.data.HeteroData` graph: ``user`` and ``item`` nodes (the
    MovieLens ids in ``ids``; ``title`` and ``genres``, e.g. ``'Animation, Comedy'``, on
    the item store), ``('user', 'rates', 'item')`` edges with ``time`` (Unix seconds) and
    ``rating`` (1-5), and the reverse ``('item', 'rated_by', 'user')`` edges. The files of
    the GroupLens release are read in their own latin-1 encoding.

    Files: the archive is downloaded and extracted to ``<root>/raw/ml-100k`` or
    ``<root>/raw/ml-1m``; one processed file per variant and filter,
    ``<root>/processed/ml-<variant>_r<min_rating>_k<k_core>.pt``. The MovieLens licence
    forbids redistribution: never commit these files.

    Args:
        root (str, optional): Dataset folder (default: ``~/.cache/pyg-llminit/movielens``).
        variant (str): ``'100k'`` or ``'1m'`` (``'ml-1m'`` etc. also accepted).
        min_rating (float, optional): Keep ratings ``>= min_rating`` (``None``: all).
        k_core (int): Iterative k-core filter on users and items (``0``: none; every
            MovieLens user already has 20 ratings or more).
        transform (callable, optional): Applied on every access.
        pre_transform (callable, optional): Applied once before saving.
        force_reload (bool): Re-process even if a cache exists.

    **STATS:** (no filter)

    .. list-table::
        :header-rows: 1

        * - Variant
          - #users
          - #items
          - #interactions
        * - 100k
          - 943
          - 1,682
          - 100,000
        * - 1m
          - 6,040
          - 3,706
          - 1,000,209
    """
    def __init__(self, root: Optional[str] = None, variant: str = '100k',
                 min_rating: Optional[float] = None, k_core: int = 0,
                 transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None, force_reload: bool = False) -> None:
        self.variant = normalize_variant(variant)
        self.min_rating, self.k_core = check_filters(min_rating, k_core)
        super().__init__(root, 'movielens', transform, pre_transform, force_reload)

    @property
    def raw_file_names(self) -> List[str]:
        return list(RAW_FILES[self.variant])

    @property
    def processed_file_names(self) -> str:
        return f'ml-{self.variant}_{filter_tag(self.min_rating, self.k_core)}.pt'

    def download(self) -> None:
        path = fetch(URL.format(self.variant), self.raw_dir, md5=MD5[self.variant])
        try:
            extract_zip(path, self.raw_dir)
        except (zipfile.BadZipFile, OSError) as e:
            raise DataError(f'{path}: not a usable zip archive ({e})') from None
        os.unlink(path)

    def read(self) -> Dict[str, Any]:
        ratings_path, items_path = self.raw_paths
        if self.variant == '100k':
            ratings = read_ratings(ratings_path, '\t')
            text = read_items_100k(items_path, osp.join(osp.dirname(items_path), 'u.genre'))
        else:
            ratings = read_ratings(ratings_path, '::')
            text = read_items_1m(items_path)
        return dict(user_ids=ratings['user_ids'], item_ids=ratings['item_ids'],
                    time=ratings['time'], rating=ratings['rating'], item_text=text,
                    min_rating=self.min_rating, k_core=self.k_core,
                    name=f'movielens-{self.variant}')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.variant}, min_rating={self.min_rating}, '
                f'k_core={self.k_core})')
