"""Interactions -> bipartite :class:`~torch_geometric.data.HeteroData`, shared by every loader.

Every loader of this package ends in :func:`build_interaction_graph`, so all graphs have the
same shape:

* ``data['user'].num_nodes``, ``data['user'].ids`` (original user ids, a list of str);
* ``data['item'].num_nodes``, ``data['item'].ids`` and one list of str per text field
  (``title`` always; ``brand``, ``categories``, ``description`` where the source has them);
* ``data['user', 'rates', 'item'].edge_index`` of shape ``[2, num_interactions]``, with
  ``time`` (``[num_interactions]``, int64: a timestamp, or the position in the user's
  history where the source only gives the order) and, where known, ``rating``;
* the reverse type ``data['item', 'rated_by', 'user'].edge_index``.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch_geometric.data import HeteroData

from ..errors import DataError

USER, ITEM = 'user', 'item'
EDGE_TYPE: Tuple[str, str, str] = (USER, 'rates', ITEM)
REV_EDGE_TYPE: Tuple[str, str, str] = (ITEM, 'rated_by', USER)


def kcore_mask(user: np.ndarray, item: np.ndarray, k: int) -> np.ndarray:
    r"""Iterative k-core filter: keeps the interactions whose user and item both have at
    least :obj:`k` interactions among the kept ones.

    Args:
        user (np.ndarray): Integer user codes, shape ``[E]``.
        item (np.ndarray): Integer item codes, shape ``[E]``.
        k (int): Minimum degree (``k <= 1`` keeps everything).

    Returns:
        A boolean mask of shape ``[E]``.
    """
    keep = np.ones(len(user), dtype=bool)
    if k <= 1:
        return keep
    while True:
        u_deg = np.bincount(user[keep], minlength=user.max(initial=-1) + 1)
        i_deg = np.bincount(item[keep], minlength=item.max(initial=-1) + 1)
        new_keep = keep & (u_deg[user] >= k) & (i_deg[item] >= k)
        if new_keep.sum() == keep.sum():
            return new_keep
        keep = new_keep


def build_interaction_graph(
    user_ids: Sequence,
    item_ids: Sequence,
    time: Optional[Sequence] = None,
    rating: Optional[Sequence] = None,
    item_text: Optional[Dict[str, Dict[str, str]]] = None,
    min_rating: Optional[float] = None,
    k_core: int = 0,
    name: str = 'graph',
) -> HeteroData:
    r"""Builds the bipartite user-item graph from raw interaction columns.

    Interactions are filtered by :obj:`min_rating` (when ratings are given), deduplicated
    (a repeated ``(user, item)`` pair keeps its earliest interaction), k-core filtered, and
    users and items are re-indexed ``0..n-1`` in order of first appearance in the sorted
    raw ids, so the result does not depend on the row order of the source file.

    Args:
        user_ids (Sequence): Raw user id per interaction, length ``E``.
        item_ids (Sequence): Raw item id per interaction, length ``E``.
        time (Sequence, optional): Timestamp or order per interaction. When missing, the
            row order of the source is used.
        rating (Sequence, optional): Rating per interaction.
        item_text (Dict[str, Dict[str, str]], optional): ``{field: {raw item id: text}}``;
            items missing from a field get the empty string.
        min_rating (float, optional): Keep interactions with ``rating >= min_rating``.
        k_core (int): Iterative k-core filtering (``0`` or ``1``: none).
        name (str): Name used in error messages.
    """
    if len(user_ids) != len(item_ids):
        raise DataError(f'{name}: user and item columns differ in length')
    # ids as ranks in their sorted vocabularies: integer work below, and no fixed-width
    # string array (one long id would make every row that wide)
    user_names, user_raw = _ranks(user_ids)
    item_names, item_raw = _ranks(item_ids)
    num = len(user_raw)
    t = np.arange(num, dtype=np.int64) if time is None else np.asarray(time, np.int64)
    r = None if rating is None else np.asarray(rating, dtype=np.float32)
    keep = np.ones(num, dtype=bool)
    if r is not None and min_rating is not None:
        keep &= r >= min_rating
    if not keep.any():
        raise DataError(f'{name}: no interaction left after rating >= {min_rating}')

    idx = np.nonzero(keep)[0]
    _, u_code = np.unique(user_raw[idx], return_inverse=True)
    _, i_code = np.unique(item_raw[idx], return_inverse=True)
    # Deduplicate (user, item): stable sort by time keeps the earliest interaction first.
    order = np.lexsort((idx, t[idx]))
    pair = u_code[order].astype(np.int64) * (i_code.max() + 1) + i_code[order]
    _, first = np.unique(pair, return_index=True)
    idx = idx[order[np.sort(first)]]

    u_all, u_code = np.unique(user_raw[idx], return_inverse=True)
    i_all, i_code = np.unique(item_raw[idx], return_inverse=True)
    mask = kcore_mask(u_code, i_code, k_core)
    if not mask.any():
        raise DataError(
            f'{name}: the graph is empty after {k_core}-core filtering')
    idx = idx[mask]
    # Final ids, sorted; edges sorted by (user, time) so each user's history is contiguous.
    user_vocab, user = np.unique(user_raw[idx], return_inverse=True)
    item_vocab, item = np.unique(item_raw[idx], return_inverse=True)
    perm = np.lexsort((idx, t[idx], user))
    user, item, idx = user[perm], item[perm], idx[perm]

    data = HeteroData()
    data[USER].num_nodes = len(user_vocab)
    data[USER].ids = [user_names[c] for c in user_vocab.tolist()]
    data[ITEM].num_nodes = len(item_vocab)
    data[ITEM].ids = [item_names[c] for c in item_vocab.tolist()]
    for field, table in (item_text or {}).items():
        data[ITEM][field] = [str(table.get(i, '') or '') for i in data[ITEM].ids]
    if 'title' not in data[ITEM]:
        data[ITEM].title = [''] * len(item_vocab)
    return attach_edges(data, user, item, t[idx], None if r is None else r[idx])


def _ranks(ids: Sequence) -> Tuple[List[str], np.ndarray]:
    r"""The sorted distinct ids as str, and each id's index in them (``int64``, ``[E]``)."""
    text = [str(i) for i in (ids.tolist() if torch.is_tensor(ids) else ids)]
    names = sorted(set(text))
    rank = {n: r for r, n in enumerate(names)}
    return names, np.fromiter((rank[t] for t in text), dtype=np.int64, count=len(text))


def attach_edges(data: HeteroData, user: np.ndarray, item: np.ndarray, time: np.ndarray,
                 rating: Optional[np.ndarray] = None) -> HeteroData:
    r"""Sets the forward and reverse interaction edges (and per-edge ``time``/``rating``)."""
    edge_index = torch.from_numpy(np.stack([user, item]).astype(np.int64))
    store = data[EDGE_TYPE]
    store.edge_index = edge_index
    store.time = torch.from_numpy(np.asarray(time, dtype=np.int64))
    if rating is not None:
        store.rating = torch.from_numpy(np.asarray(rating, dtype=np.float32))
    data[REV_EDGE_TYPE].edge_index = edge_index.flip(0)
    return data


def graph_statistics(data: HeteroData) -> Dict[str, float]:
    r"""Users, items, interactions, density and mean degrees of a graph."""
    num_users, num_items = data[USER].num_nodes, data[ITEM].num_nodes
    num_edges = data[EDGE_TYPE].edge_index.size(1)
    return {
        'users': num_users,
        'items': num_items,
        'interactions': num_edges,
        'density': num_edges / max(num_users * num_items, 1),
        'interactions/user': num_edges / max(num_users, 1),
        'interactions/item': num_edges / max(num_items, 1),
    }


def graph_fingerprint(data: HeteroData) -> Dict[str, object]:
    r"""Counts and a SHA-256 of the user and item ids and the interactions (with their
    time): what a run was trained on, to tell later whether a graph is still the same."""
    import hashlib
    digest = hashlib.sha256()
    for ids in (data[USER].ids, data[ITEM].ids):
        digest.update('\n'.join(map(str, ids)).encode())
        digest.update(b'\0')
    store = data[EDGE_TYPE]
    digest.update(store.edge_index.contiguous().numpy().tobytes())
    if 'time' in store:
        digest.update(store.time.contiguous().numpy().tobytes())
    return {'users': data[USER].num_nodes, 'items': data[ITEM].num_nodes,
            'interactions': store.edge_index.size(1), 'sha256': digest.hexdigest()}


def text_fields(data: HeteroData, node_type: str = ITEM) -> List[str]:
    r"""The text fields (lists of str) of :obj:`node_type`'s nodes (``title`` first)."""
    store = data[node_type]
    fields = [k for k in store.keys() if isinstance(store[k], list) and k != 'ids']
    return sorted(fields, key=lambda f: (f != 'title', f))
