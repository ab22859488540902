import pytest
import torch

from pyg_llminit.datasets.graph import EDGE_TYPE, REV_EDGE_TYPE
from pyg_llminit.errors import UserInputError
from pyg_llminit.transforms.split import ColdItemSplit, cold_items, is_cold_split
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
    for spec in ('cold-items:many', 'cold-items:', 'cold-items=0.2', 'cold-items0.2'):
        with pytest.raises(UserInputError, match=f"unknown split '{spec}'"):
            parse_split(spec)


@pytest.mark.parametrize('strategy', ['pca', 'variance'])
def test_llminit_statistics_never_see_the_held_out_items_text(small_graph, strategy):
    from pyg_llminit.transforms import LLMInit
    train = ColdItemSplit(0.3, seed=4)(small_graph)[0]
    cold = cold_items(train)
    text = torch.randn(30, 12, generator=torch.Generator().manual_seed(0))
    other = text.clone()
    other[cold] = 100 * torch.randn(cold.numel(), 12)  # whatever the new items' text is
    first = LLMInit(text, dim=4, strategy=strategy, popular_ratio=1.0, scale=0.1)(
        train.clone())
    second = LLMInit(other, dim=4, strategy=strategy, popular_ratio=1.0, scale=0.1)(
        train.clone())
    warm = torch.ones(30, dtype=torch.bool)
    warm[cold] = False
    assert torch.allclose(first['item'].x[warm], second['item'].x[warm], atol=1e-6)
    assert torch.allclose(first['user'].x, second['user'].x, atol=1e-6)
