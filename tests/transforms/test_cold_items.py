import pytest
import torch

from pyg_llminit.datasets.graph import EDGE_TYPE, REV_EDGE_TYPE
from pyg_llminit.errors import UserInputError
from pyg_llminit.transforms.cold_items import ColdItemSplit, cold_items, is_cold_split
from pyg_llminit.transforms.split import LeaveOneOutSplit, parse_split


def _pairs(index):
    return set(map(tuple, index.t().tolist()))


def test_held_out_items_never_appear_in_training(small_graph):
    train, val, test = ColdItemSplit(0.2, seed=3)(small_graph)
    val_items, test_items = train.cold_val_items, train.cold_test_items
    active = torch.unique(small_graph[EDGE_TYPE].edge_index[1]).numel()
    assert val_items.numel() + test_items.numel() == round(0.2 * active)
    assert abs(val_items.numel() - test_items.numel()) <= 1
    assert not set(val_items.tolist()) & set(test_items.tolist())
    train_pairs = _pairs(train[EDGE_TYPE].edge_index)
    cold = set(cold_items(train).tolist())
    assert not {item for _, item in train_pairs} & cold  # no cold item trains
    assert {i for _, i in _pairs(val[EDGE_TYPE].edge_label_index)} <= set(val_items.tolist())
    assert {i for _, i in _pairs(test[EDGE_TYPE].edge_label_index)} <= set(test_items.tolist())
    # every interaction of a cold item is held out (here every user keeps a training item)
    for part, items in ((val, val_items), (test, test_items)):
        expected = {p for p in _pairs(small_graph[EDGE_TYPE].edge_index) if p[1] in items}
        assert _pairs(part[EDGE_TYPE].edge_label_index) == expected
    for part in (train, val, test):  # one item id space; propagation over training only
        assert part['item'].num_nodes == small_graph['item'].num_nodes
        assert _pairs(part[EDGE_TYPE].edge_index) == train_pairs
        assert _pairs(part[REV_EDGE_TYPE].edge_index.flip(0)) == train_pairs
        assert is_cold_split(part)
    assert not is_cold_split(LeaveOneOutSplit()(small_graph)[0])
    assert repr(ColdItemSplit(0.2, seed=3)) == 'ColdItemSplit(ratio=0.2, seed=3)'


def test_the_choice_of_items_follows_the_seed(small_graph):
    first = ColdItemSplit(0.3, seed=1)(small_graph)[0]
    again = ColdItemSplit(0.3, seed=1)(small_graph)[0]
    other = ColdItemSplit(0.3, seed=2)(small_graph)[0]
    assert torch.equal(cold_items(first), cold_items(again))
    assert not torch.equal(cold_items(first), cold_items(other))


def test_interactions_of_users_left_without_training_are_dropped():
    from pyg_llminit.datasets.graph import build_interaction_graph
    # user 'solo' rated only item 'x'; whichever items go cold, 'solo' has no
    # training interaction when 'x' does, and is then in no split at all
    users = ['solo'] + [f'u{k}' for k in range(6) for _ in range(4)]
    items = ['x'] + [f'i{(k + j) % 8}' for k in range(6) for j in range(4)]
    data = build_interaction_graph(users, items)
    for seed in range(20):
        train, val, test = ColdItemSplit(0.5, seed=seed)(data)
        solo = data['user'].ids.index('solo')
        held = torch.cat([val[EDGE_TYPE].edge_label_index, test[EDGE_TYPE].edge_label_index], 1)
        trained = set(train[EDGE_TYPE].edge_index[0].tolist())
        assert set(held[0].tolist()) <= trained
        if solo not in trained:
            assert solo not in held[0].tolist()


@pytest.mark.parametrize('ratio', [0, -0.1, 0.51, 2])
def test_a_ratio_outside_zero_to_a_half_is_refused(ratio):
    with pytest.raises(UserInputError, match=r'cold-item ratio must lie in \(0, 0.5\]'):
        ColdItemSplit(ratio)


def test_too_few_items_to_hold_out_is_refused(small_graph):
    with pytest.raises(UserInputError, match='at least 2 are needed'):
        ColdItemSplit(0.01)(small_graph)


def test_parse_split_reads_cold_items():
    split = parse_split('cold-items:0.25', seed=7)
    assert repr(split) == 'ColdItemSplit(ratio=0.25, seed=7)'
    assert repr(parse_split('cold-items')) == 'ColdItemSplit(ratio=0.1, seed=2020)'
    with pytest.raises(UserInputError, match="unknown split 'cold-items:many'"):
        parse_split('cold-items:many')
