"""``--graph NAME|PATH`` -> a :class:`~torch_geometric.data.HeteroData` graph."""
import os.path as osp
from typing import Callable, Dict, Optional

from torch_geometric.data import HeteroData

from ..catalog import AMAZON_2014, GRAPH_ALIASES
from ..catalog import GRAPHS as CATALOG
from ..errors import UserInputError
from .amazon import Amazon2014, normalize_category
from .beauty import AmazonBeauty
from .local import has_rating_column, load_local_graph
from .movielens import MovieLens

#: A loader: ``(root, force_reload, min_rating, k_core) -> HeteroData``; ``None`` filters
#: mean the loader's defaults.
Loader = Callable[[Optional[str], bool, Optional[float], Optional[int]], HeteroData]


def _filters(min_rating: Optional[float], k_core: Optional[int],
             defaults: Optional[Dict] = None) -> Dict:
    given = {'min_rating': min_rating, 'k_core': k_core}
    return {**(defaults or {}), **{k: v for k, v in given.items() if v is not None}}


def _beauty(root: Optional[str], force: bool, min_rating: Optional[float] = None,
            k_core: Optional[int] = None) -> HeteroData:
    # The embedded graph is fixed: already 5-core (a k-core filter with k <= 5 changes
    # nothing), without ratings. A filter it cannot apply is refused, never just recorded.
    if min_rating is not None:
        raise UserInputError('min_rating does not apply to the embedded Beauty graph, which '
                             'holds no ratings (each review of its 5-core is an '
                             'interaction)',
                             param='min_rating')
    if k_core is not None and k_core > 5:
        raise UserInputError(f'k_core {k_core} does not apply to the embedded Beauty graph, '
                             'which is fixed at 5-core; use a graph loaded from raw files',
                             param='k_core')
    return AmazonBeauty(root, force_reload=force)[0]


def _amazon_2014(category: str) -> Loader:
    def load(root, force, min_rating=None, k_core=None):  # paper defaults: >= 4, 5-core
        filters = _filters(min_rating, k_core, {'min_rating': 4.0, 'k_core': 5})
        return Amazon2014(root, category, force_reload=force, **filters)[0]
    return load


def _movielens(variant: str) -> Loader:
    def load(root, force, min_rating=None, k_core=None):
        return MovieLens(root, variant, force_reload=force, **_filters(min_rating, k_core))[0]
    return load


#: Loader factories by kind (see :data:`pyg_llminit.catalog.GRAPHS`).
_KINDS: Dict[str, Callable[[Optional[str]], Loader]] = {
    'embedded-beauty': lambda _: _beauty,
    AMAZON_2014: _amazon_2014,
    'movielens': _movielens,
}
GRAPHS: Dict[str, Loader] = {name: _KINDS[kind](arg) for name, (kind, arg) in CATALOG.items()}
ALIASES = GRAPH_ALIASES


def _looks_like_path(name: str) -> bool:
    return (osp.sep in name or '/' in name or name.startswith('.')
            or name.endswith(('.inter', '.csv')))


def is_builtin_graph(name: str) -> bool:
    r"""Whether :func:`load_graph` reads :obj:`name` as a built-in graph, not as a path."""
    if ALIASES.get(name.lower(), name.lower()) in GRAPHS:
        return True
    prefix, sep, _ = name.partition(':')
    return bool(sep) and prefix.lower() == AMAZON_2014 and not osp.exists(name)


def graph_has_ratings(name: str) -> bool:
    r"""Whether graph :obj:`name` can be filtered by rating: every built-in graph but the
    embedded Beauty (a 5-core of reviews without their stars), and a local graph whose
    interactions have a ``rating`` column."""
    if not is_builtin_graph(name):
        return has_rating_column(name)
    return CATALOG.get(ALIASES.get(name.lower(), name.lower()), ('',))[0] != 'embedded-beauty'


def load_graph(name: str, root: Optional[str] = None, force_reload: bool = False,
               min_rating: Optional[float] = None,
               k_core: Optional[int] = None) -> HeteroData:
    r"""Loads a graph by name or path.

    Names (see :data:`GRAPHS` and :data:`ALIASES`): ``'amazon'`` (the embedded Amazon
    Beauty graph; fixed, the filters do not apply), ``'toys-and-games'``,
    ``'tools-and-home-improvement'``, ``'office-products'`` (:class:`Amazon2014`,
    ratings >= 4 and 5-core by default, as in LLMInit), ``'amazon-2014:<Category>'`` for
    any 2014 category (e.g. ``'amazon-2014:Baby'``, same defaults),
    ``'movielens-100k'``/``'ml-100k'`` and ``'movielens-1m'``/``'ml-1m'``
    (:class:`MovieLens`, no filter by default). A name that is none of these but an
    existing file or folder is read by :func:`load_local_graph` (never cached).

    Args:
        name (str): Graph name, alias or path.
        root (str, optional): Cache folder (default: under ``$PYG_LLMINIT_HOME``).
        force_reload (bool): Re-process even if cached.
        min_rating (float, optional): Keep ratings ``>= min_rating`` (``None``: the
            loader's default).
        k_core (int, optional): k-core filter (``None``: the loader's default).
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key in GRAPHS:
        return GRAPHS[key](root, force_reload, min_rating, k_core)
    prefix, sep, category = name.partition(':')
    if sep and prefix.lower() == AMAZON_2014 and not osp.exists(name):
        return _amazon_2014(normalize_category(category))(root, force_reload,
                                                          min_rating, k_core)
    if osp.exists(name):
        return load_local_graph(name, **_filters(min_rating, k_core))
    if _looks_like_path(name):
        raise UserInputError(f"graph '{name}': no such file or folder")
    names = sorted(set(GRAPHS) | set(ALIASES)) + [f'{AMAZON_2014}:<Category>', 'a path']
    raise UserInputError(f"unknown graph '{name}' (known: {', '.join(names)})")
