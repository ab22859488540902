import numpy as np
import pytest
import torch

from pyg_llminit.datasets.graph import (
    EDGE_TYPE,
    REV_EDGE_TYPE,
    build_interaction_graph,
    graph_statistics,
    kcore_mask,
)
from pyg_llminit.errors import UserInputError


def test_kcore_removes_chain():
    # u0..u2 all rate i0,i1 (degree 2); u3 rates i2 only -> i2 and u3 drop at k=2.
    user = np.array([0, 0, 1, 1, 2, 2, 3])
    item = np.array([0, 1, 0, 1, 0, 1, 2])
    assert kcore_mask(user, item, 2).tolist() == [True] * 6 + [False]
    # k=3: items have degree 3, users degree 2 -> everything goes.
    assert not kcore_mask(user, item, 3).any()


def test_build_graph_filters_dedups_and_orders():
    users = ['b', 'a', 'a', 'a', 'b', 'c']
    items = ['x', 'y', 'x', 'y', 'y', 'x']
    time = [5, 3, 1, 9, 2, 4]
    rating = [5, 4, 5, 2, 1, 5]
    data = build_interaction_graph(users, items, time=time, rating=rating, min_rating=4,
                                   item_text={'title': {'x': 'X!', 'y': 'Y?'}})
    # rating >= 4 drops (a,y,9) and (b,y,2); (a,y) survives once, at time 3.
    assert data['user'].ids == ['a', 'b', 'c']
    assert data['item'].ids == ['x', 'y']
    assert data['item'].title == ['X!', 'Y?']
    store = data[EDGE_TYPE]
    assert store.edge_index.tolist() == [[0, 0, 1, 2], [0, 1, 0, 0]]
    assert store.time.tolist() == [1, 3, 5, 4]  # per user, oldest first
    assert torch.equal(data[REV_EDGE_TYPE].edge_index, store.edge_index.flip(0))
    stats = graph_statistics(data)
    assert (stats['users'], stats['items'], stats['interactions']) == (3, 2, 4)


def test_duplicate_pair_keeps_earliest():
    data = build_interaction_graph(['u', 'u'], ['i', 'i'], time=[7, 2])
    assert data[EDGE_TYPE].time.tolist() == [2]


def test_empty_after_filtering_is_user_error():
    with pytest.raises(UserInputError, match='empty after 5-core'):
        build_interaction_graph(['u', 'v'], ['i', 'j'], k_core=5)
    with pytest.raises(UserInputError, match='rating >= 4'):
        build_interaction_graph(['u'], ['i'], rating=[1], min_rating=4)
