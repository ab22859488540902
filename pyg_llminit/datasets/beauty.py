"""Amazon Beauty (2014, 5-core), embedded in the package: no download, no ``../shared``."""
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from .base import InteractionDataset

ASSET = Path(__file__).parent / 'assets' / 'amazon_beauty.npz'


def read_beauty_asset(path: Path = ASSET) -> Dict[str, np.ndarray]:
    r"""Reads the embedded file (no pickle) into plain arrays and lists."""
    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in ('user', 'item', 'position')}
        out['user_ids'] = bytes(z['user_ids']).decode().split('\n')
        out['item_ids'] = bytes(z['item_ids']).decode().split('\n')
        out['titles'] = z['titles'].tobytes().decode('utf-8').split('\n')
    return out


class AmazonBeauty(InteractionDataset):
    r"""The Amazon Beauty 2014 5-core interaction graph with product titles, the first
    dataset of LLMInit (Zhang et al., "LLMInit: A Free Lunch from Large Language Models for
    Selective Initialization of Recommendation", arXiv 2503.01814), shipped inside the
    package.

    One :class:`~torch_geometric.data.HeteroData` graph: ``user`` and ``item`` nodes (item
    ``title`` and ASIN ``ids`` kept on the item store), ``('user', 'rates', 'item')`` edges
    with ``time`` = the interaction's position in the user's history (the source gives the
    order of each user's reviews, not timestamps), and the reverse ``('item', 'rated_by',
    'user')`` edges.

    Args:
        root (str, optional): Folder of the processed cache
            (default: ``~/.cache/pyg-llminit/amazon-beauty``).
        transform (callable, optional): Applied on every access.
        pre_transform (callable, optional): Applied once before saving.
        force_reload (bool): Re-process even if a cache exists.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #users
          - #items
          - #interactions
          - #interactions/user (min)
        * - 22,363
          - 12,101
          - 198,502
          - 5
    """
    def __init__(self, root: Optional[str] = None, transform: Optional[Callable] = None,
                 pre_transform: Optional[Callable] = None, force_reload: bool = False) -> None:
        super().__init__(root, 'amazon-beauty', transform, pre_transform, force_reload)

    @property
    def raw_dir(self) -> str:
        return str(ASSET.parent)

    @property
    def raw_file_names(self) -> List[str]:
        return [ASSET.name]

    @property
    def processed_file_names(self) -> str:
        return 'data.pt'

    def download(self) -> None:  # pragma: no cover - the file ships with the package
        raise FileNotFoundError(f'the embedded Beauty file is missing: {ASSET}')

    def read(self) -> Dict[str, Any]:
        raw = read_beauty_asset(ASSET)
        return dict(user_ids=np.asarray(raw['user_ids'])[raw['user']],
                    item_ids=np.asarray(raw['item_ids'])[raw['item']], time=raw['position'],
                    item_text={'title': dict(zip(raw['item_ids'], raw['titles']))},
                    name='amazon-beauty')
