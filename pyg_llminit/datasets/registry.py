"""``--graph NAME|PATH`` -> a :class:`~torch_geometric.data.HeteroData` graph."""
from typing import Callable, Dict, Optional

from torch_geometric.data import HeteroData

from ..errors import UserInputError
from .beauty import AmazonBeauty

# name -> loader(root, force_reload) -> HeteroData
GRAPHS: Dict[str, Callable[[Optional[str], bool], HeteroData]] = {
    'amazon': lambda root, force: AmazonBeauty(root, force_reload=force)[0],
}
ALIASES = {'amazon-beauty': 'amazon', 'beauty': 'amazon'}


def load_graph(name: str, root: Optional[str] = None, force_reload: bool = False) -> HeteroData:
    r"""Loads a graph by name (see :data:`GRAPHS`, e.g. ``'amazon'``, the embedded Amazon
    Beauty graph).

    Args:
        name (str): Graph name or alias.
        root (str, optional): Cache folder (default: under ``$PYG_LLMINIT_HOME``).
        force_reload (bool): Re-process even if cached.
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key not in GRAPHS:
        names = sorted(set(GRAPHS) | set(ALIASES))
        raise UserInputError(f"unknown graph '{name}' (known: {', '.join(names)})")
    return GRAPHS[key](root, force_reload)
