"""What every cached interaction dataset shares: a root under ``$PYG_LLMINIT_HOME``, one
processed file, and processing through :func:`~.graph.build_interaction_graph`."""
import os
import os.path as osp
from typing import Any, Callable, Dict, Optional

from torch_geometric.data import HeteroData, InMemoryDataset

from .graph import build_interaction_graph


def default_root(name: str) -> str:
    r"""Where processed graphs are cached: ``$PYG_LLMINIT_HOME/<name>``, by default under
    ``~/.cache/pyg-llminit``."""
    home = os.environ.get('PYG_LLMINIT_HOME',
                          osp.join(osp.expanduser('~'), '.cache', 'pyg-llminit'))
    return osp.join(home, name)


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
        super().__init__(root or default_root(name), transform, pre_transform,
                         force_reload=force_reload)
        self.load(self.processed_paths[0], data_cls=HeteroData)

    def read(self) -> Dict[str, Any]:  # pragma: no cover - abstract
        r"""Raw files -> keyword arguments of ``build_interaction_graph``."""
        raise NotImplementedError

    def process(self) -> None:
        data = build_interaction_graph(**self.read())
        if self.pre_transform is not None:
            data = self.pre_transform(data)
        self.save([data], self.processed_paths[0])
