"""Any category of the 2014 Amazon review data (ratings-only files and item metadata)."""
import ast
import csv
import gzip
import json
import os.path as osp
import re
from typing import Any, Callable, Dict, Iterable, List, Optional

from ..errors import DataError, UserInputError
from .base import InteractionDataset, check_filters, fetch, filter_tag, ratings_from_rows

URL = 'https://snap.stanford.edu/data/amazon/productGraph/categoryFiles'

#: The 24 categories of the 2014 release, as spelled in its file names.
CATEGORIES: List[str] = [
    'Books', 'Electronics', 'Movies_and_TV', 'CDs_and_Vinyl', 'Clothing_Shoes_and_Jewelry',
    'Home_and_Kitchen', 'Kindle_Store', 'Sports_and_Outdoors', 'Cell_Phones_and_Accessories',
    'Health_and_Personal_Care', 'Toys_and_Games', 'Video_Games',
    'Tools_and_Home_Improvement', 'Beauty', 'Apps_for_Android', 'Office_Products',
    'Pet_Supplies', 'Automotive', 'Grocery_and_Gourmet_Food', 'Patio_Lawn_and_Garden', 'Baby',
    'Digital_Music', 'Musical_Instruments', 'Amazon_Instant_Video',
]
TEXT_FIELDS = ('title', 'brand', 'categories', 'description')
_ASIN = re.compile(r"""['"]asin['"]\s*:\s*['"]([^'"]+)['"]""")


def _key(name: str) -> str:
    return re.sub(r'[^a-z0-9]+', '_', name.lower().replace('&', ' and ')).strip('_')


_BY_KEY: Dict[str, str] = {_key(c): c for c in CATEGORIES}


def normalize_category(name: str) -> str:
    r"""Maps a category name given in any case, with dashes, spaces or ``&``
    (``'toys-and-games'``, ``'Movies & TV'``) to its official spelling
    (``'Toys_and_Games'``, ``'Movies_and_TV'``).

    Raises:
        UserInputError: For a name that is not one of :data:`CATEGORIES`.
    """
    official = _BY_KEY.get(_key(str(name)))
    if official is None:
        raise UserInputError(f"unknown Amazon 2014 category '{name}' (known: "
                             f"{', '.join(c.lower().replace('_', '-') for c in CATEGORIES)})")
    return official


def read_ratings(path: str, min_rating: Optional[float] = None) -> Dict[str, list]:
    r"""Reads a ``ratings_<Category>.csv`` file (no header; ``user,item,rating,timestamp``),
    dropping the rows below :obj:`min_rating` while reading to save memory."""
    try:
        with open(path, newline='', encoding='utf-8') as f:
            rows = ((line, row) for line, row in enumerate(csv.reader(f), start=1) if row)
            return ratings_from_rows(rows, path, 'user,item,rating,timestamp', min_rating)
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f'{path}: cannot read ({e})') from None


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ' '.join(_text(v) for v in value if v)
    return ' '.join(str(value).split()) if value is not None else ''


def _categories(value) -> str:
    r"""Flattens a list of category paths, keeping each name once, in order."""
    names: List[str] = []
    stack: Iterable = value if isinstance(value, (list, tuple)) else [value]
    for entry in stack:
        for name in entry if isinstance(entry, (list, tuple)) else [entry]:
            name = _text(name)
            if name and name not in names:
                names.append(name)
    return ', '.join(names)


def read_metadata(path: str, asins: Optional[set] = None) -> Dict[str, Dict[str, str]]:
    r"""Reads a ``meta_<Category>.json.gz`` file (one Python dict literal per line, parsed
    with :func:`ast.literal_eval`, falling back to :func:`json.loads`) into
    ``{field: {asin: text}}`` for the fields ``title``, ``brand``, ``categories`` and
    ``description``; only the items in :obj:`asins` are kept when it is given."""
    table: Dict[str, Dict[str, str]] = {field: {} for field in TEXT_FIELDS}
    try:
        with gzip.open(path, 'rt', encoding='utf-8') as f:
            for line, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                found = _ASIN.search(text)
                if asins is not None and found and found.group(1) not in asins:
                    continue
                try:
                    entry = ast.literal_eval(text)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    try:
                        entry = json.loads(text)
                    except ValueError:
                        raise DataError(f'{path}: line {line}: not a Python dict or '
                                        'JSON object') from None
                if not isinstance(entry, dict) or 'asin' not in entry:
                    raise DataError(f"{path}: line {line}: not an item record with "
                                    "an 'asin'")
                asin = str(entry['asin'])
                if asins is not None and asin not in asins:
                    continue
                for field in TEXT_FIELDS:
                    value = entry.get(field)
                    value = _categories(value) if field == 'categories' else _text(value)
                    if value:
                        table[field][asin] = value
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise DataError(f'{path}: cannot read ({e})') from None
    return {field: t for field, t in table.items() if t or field == 'title'}


class Amazon2014(InteractionDataset):
    r"""One category of the 2014 Amazon review data (McAuley et al., "Image-based
    Recommendations on Styles and Substitutes", SIGIR 2015; He and McAuley, "Ups and Downs:
    Modeling the Visual Evolution of Fashion Trends with One-Class Collaborative
    Filtering", WWW 2016; http://jmcauley.ucsd.edu/data/amazon/), built from the
    ratings-only file of the category and its item metadata. LLMInit (Zhang et al.,
    arXiv 2503.01814) uses Toys and Games, Tools and Home Improvement and Office Products
    with ratings >= 4 and the 5-core, the defaults here.

    One :class:`~torch_geometric.data.HeteroData` graph: ``user`` and ``item`` nodes
    (ASIN ``ids`` and the text fields ``title``, ``brand``, ``categories`` — the
    category paths flattened, each name once, joined with ``', '`` — and ``description``
    on the item store), ``('user', 'rates', 'item')`` edges with ``time`` (Unix seconds)
    and ``rating``, and the reverse ``('item', 'rated_by', 'user')`` edges.

    Files: ``<root>/<Category>/raw/ratings_<Category>.csv`` and
    ``meta_<Category>.json.gz`` (downloaded when missing), and one processed file per
    filter, ``<root>/<Category>/processed/data_r<min_rating>_k<k_core>.pt``.

    Args:
        root (str, optional): Dataset folder (default: ``~/.cache/pyg-llminit/amazon-2014``).
        category (str): One of :data:`CATEGORIES`, in any case, with ``_``, ``-`` or spaces
            (e.g. ``'toys-and-games'``).
        min_rating (float, optional): Keep ratings ``>= min_rating`` (``None``: all).
        k_core (int): Iterative k-core filter on users and items (``0``: none).
        transform (callable, optional): Applied on every access.
        pre_transform (callable, optional): Applied once before saving.
        force_reload (bool): Re-process even if a cache exists.

    **STATS:**

    The 5-core *review* subsets published with the data, for reference (this loader filters
    the larger ratings-only files, so its counts differ; print them with
    ``pyg-llminit stats``):

    .. list-table::
        :header-rows: 1

        * - Category
          - #users
          - #items
          - #interactions
        * - Toys_and_Games
          - 19,412
          - 11,924
          - 167,597
        * - Tools_and_Home_Improvement
          - 16,638
          - 10,217
          - 134,476
        * - Office_Products
          - 4,905
          - 2,420
          - 53,258
    """
    def __init__(self, root: Optional[str] = None, category: str = 'Toys_and_Games',
                 min_rating: Optional[float] = 4.0, k_core: int = 5,
                 transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None, force_reload: bool = False) -> None:
        self.category = normalize_category(category)
        self.min_rating, self.k_core = check_filters(min_rating, k_core)
        super().__init__(root, 'amazon-2014', transform, pre_transform, force_reload)

    @property
    def raw_dir(self) -> str:
        return osp.join(self.root, self.category, 'raw')

    @property
    def processed_dir(self) -> str:
        return osp.join(self.root, self.category, 'processed')

    @property
    def raw_file_names(self) -> List[str]:
        return [f'ratings_{self.category}.csv', f'meta_{self.category}.json.gz']

    @property
    def processed_file_names(self) -> str:
        return f'data_{filter_tag(self.min_rating, self.k_core)}.pt'

    def download(self) -> None:
        for name in self.raw_file_names:
            if not osp.exists(osp.join(self.raw_dir, name)):
                fetch(f'{URL}/{name}', self.raw_dir, name)

    def read(self) -> Dict[str, Any]:
        ratings = read_ratings(self.raw_paths[0], self.min_rating)
        if not ratings['user_ids']:
            above = '' if self.min_rating is None else f' with rating >= {self.min_rating:g}'
            raise DataError(f'{self.raw_paths[0]}: no ratings{above}')
        text = read_metadata(self.raw_paths[1], set(ratings['item_ids']))
        return dict(user_ids=ratings['user_ids'], item_ids=ratings['item_ids'],
                    time=ratings['time'], rating=ratings['rating'], item_text=text,
                    min_rating=self.min_rating, k_core=self.k_core,
                    name=f'amazon-2014 {self.category}')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.category}, min_rating={self.min_rating}, '
                f'k_core={self.k_core})')
