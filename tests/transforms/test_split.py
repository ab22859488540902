import pytest
import torch

from pyg_llminit.datasets.graph import EDGE_TYPE, REV_EDGE_TYPE, build_interaction_graph
from pyg_llminit.errors import UserInputError
from pyg_llminit.models.propagation import normalized_adjacency
from pyg_llminit.transforms.split import LeaveOneOutSplit, RatioSplit, parse_split, rank_within_user


def _pairs(index):
    return set(map(tuple, index.t().tolist()))


def test_leave_one_out_in_time_order():
    # user a: items x(t=3), y(t=1), z(t=2), w(t=5) -> order y, z, x, w.
    data = build_interaction_graph(['a'] * 4 + ['b'] * 2 + ['c'],
                                   ['x', 'y', 'z', 'w', 'x', 'y', 'x'],
                                   time=[3, 1, 2, 5, 9, 8, 1])
    ids = data['item'].ids
    train, val, test = LeaveOneOutSplit()(data)
    item = lambda name: ids.index(name)  # noqa: E731
    assert _pairs(test[EDGE_TYPE].edge_label_index) == {(0, item('w')), (1, item('x'))}
    assert _pairs(val[EDGE_TYPE].edge_label_index) == {(0, item('x'))}
    # b has two interactions: one trains, one tests; c has one: it trains.
    assert _pairs(train[EDGE_TYPE].edge_index) == {(0, item('y')), (0, item('z')),
                                                   (1, item('y')), (2, item('x'))}
    assert repr(LeaveOneOutSplit()) == "LeaveOneOutSplit(order='time', seed=2020)"


def test_no_leakage_into_message_passing(small_graph):
    for splitter in (LeaveOneOutSplit(), LeaveOneOutSplit('random', seed=3), RatioSplit()):
        train, val, test = splitter(small_graph)
        train_pairs = _pairs(train[EDGE_TYPE].edge_index)
        held_out = (_pairs(val[EDGE_TYPE].edge_label_index)
                    | _pairs(test[EDGE_TYPE].edge_label_index))
        assert not train_pairs & held_out
        assert len(train_pairs) + len(held_out) == small_graph[EDGE_TYPE].num_edges
        for part in (train, val, test):  # every split propagates over training edges only
            assert _pairs(part[EDGE_TYPE].edge_index) == train_pairs
            assert _pairs(part[REV_EDGE_TYPE].edge_index.flip(0)) == train_pairs
            assert part[EDGE_TYPE].time.numel() == len(train_pairs)
        # The propagation matrix has no entry for a held-out pair.
        num_users = small_graph['user'].num_nodes
        adj = normalized_adjacency(train[EDGE_TYPE].edge_index, num_users,
                                   small_graph['item'].num_nodes)
        row, col = adj.coo()
        adj_pairs = {(r, c - num_users) for r, c in zip(row.tolist(), col.tolist())
                     if r < num_users}
        assert adj_pairs == train_pairs


def test_time_order_puts_newest_in_test(small_graph):
    train, val, test = LeaveOneOutSplit()(small_graph)
    store = small_graph[EDGE_TYPE]
    last_time = {}
    for (u, _), t in zip(store.edge_index.t().tolist(), store.time.tolist()):
        last_time[u] = max(last_time.get(u, -1), t)
    test_store = test[EDGE_TYPE]
    assert all(last_time[u] == t for u, t in zip(test_store.edge_label_index[0].tolist(),
                                                test_store.edge_label_time.tolist()))
    train_store = train[EDGE_TYPE]
    for u, t in zip(train_store.edge_index[0].tolist(), train_store.time.tolist()):
        assert t <= last_time[u]


def test_random_order_is_seeded(small_graph):
    a = LeaveOneOutSplit('random', seed=1)(small_graph)[2][EDGE_TYPE].edge_label_index
    b = LeaveOneOutSplit('random', seed=1)(small_graph)[2][EDGE_TYPE].edge_label_index
    c = LeaveOneOutSplit('random', seed=2)(small_graph)[2][EDGE_TYPE].edge_label_index
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_ratio_split_counts_follow_recbole_rounding():
    split = RatioSplit((0.8, 0.1, 0.1))
    val, test = split.split_counts(torch.tensor([5, 10, 20, 1, 2]))
    # RecBole: 5 -> 3/1/1, 10 -> 8/1/1, 20 -> 16/2/2, 1 -> 1/0/0, 2 -> 1/0/1.
    assert val.tolist() == [1, 1, 2, 0, 0]
    assert test.tolist() == [1, 1, 2, 0, 1]


def test_rank_within_user():
    user = torch.tensor([1, 0, 1, 0, 1])
    time = torch.tensor([30, 5, 10, 1, 20])
    rank, degree = rank_within_user(user, time)
    assert rank.tolist() == [2, 1, 0, 0, 1]
    assert degree.tolist() == [3, 2, 3, 2, 3]


def test_bad_split_specs():
    with pytest.raises(UserInputError, match="unknown split 'half'"):
        parse_split('half')
    with pytest.raises(UserInputError, match='three fractions'):
        parse_split('0.5,0.5')
    with pytest.raises(UserInputError, match="unknown split order"):
        LeaveOneOutSplit(order='alphabetical')
    assert isinstance(parse_split('0.7,0.1,0.2'), RatioSplit)
