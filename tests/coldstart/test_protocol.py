import math

import pytest
import torch
import torch.nn.functional as F

from pyg_llminit.coldstart import ColdItemProtocol, RidgeMap, user_text_profiles
from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.errors import UserInputError
from pyg_llminit.training.sampling import NegativeSampler
from pyg_llminit.transforms.split import ColdItemSplit, cold_items


@pytest.fixture
def setup(small_graph):
    train, val, test = ColdItemSplit(0.4, seed=1)(small_graph)
    gen = torch.Generator().manual_seed(0)
    text = torch.randn(30, 16, generator=gen)
    tables = (torch.randn(40, 6, generator=gen), torch.randn(30, 6, generator=gen))
    return train, val, test, text, tables


def _by_hand(scores, labels, k):
    r"""Mean recall@k and ndcg@k over the labelled users (an independent computation)."""
    recalls, ndcgs = [], []
    for user in sorted(labels):
        top = torch.argsort(scores[user], descending=True)[:k].tolist()
        hits = [rank for rank, item in enumerate(top) if item in labels[user]]
        recalls.append(len(hits) / len(labels[user]))
        idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(labels[user]))))
        ndcgs.append(sum(1 / math.log2(r + 2) for r in hits) / idcg)
    return sum(recalls) / len(recalls), sum(ndcgs) / len(ndcgs)


def _labels(part, items):
    local = {item: pos for pos, item in enumerate(items.tolist())}
    labels = {}
    for user, item in part[EDGE_TYPE].edge_label_index.t().tolist():
        labels.setdefault(user, set()).add(local[item])
    return labels


def test_text_similarity_and_ridge_match_an_independent_ranking(setup):
    train, val, test, text, (users, items) = setup
    protocol = ColdItemProtocol(train, val, test, text, cold_map='ridge', k=(3,))
    result = protocol.test((users, items))
    cold_test = train.cold_test_items
    labels = _labels(test, cold_test)
    # text similarity: cosine of the user's mean unit text vector to the item's
    unit = F.normalize(text, dim=1)
    train_pairs = train[EDGE_TYPE].edge_index
    profile = torch.stack([unit[train_pairs[1][train_pairs[0] == u]].mean(0)
                           for u in range(40)])
    scores = F.normalize(profile, dim=1) @ unit[cold_test].T
    recall, ndcg_text = _by_hand(scores, labels, 3)
    assert result['test_cold_references']['text']['recall@3'] == pytest.approx(recall)
    assert result['test_cold_references']['text']['ndcg@3'] == pytest.approx(ndcg_text)
    # the model's map: ridge fitted on the items with training interactions
    warm = torch.unique(train_pairs[1])
    fitted = RidgeMap(1.0).fit(text[warm], items[warm])
    recall, ndcg = _by_hand(users @ fitted(text[cold_test]).T, labels, 3)
    assert result['test']['recall@3'] == pytest.approx(recall, abs=1e-6)
    assert result['test']['ndcg@3'] == pytest.approx(ndcg, abs=1e-6)
    # validation: the same on the validation items
    cold_val = train.cold_val_items
    recall, ndcg = _by_hand(users @ fitted(text[cold_val]).T, _labels(val, cold_val), 3)
    assert protocol.validate((users, items))['ndcg@3'] == pytest.approx(ndcg, abs=1e-6)
    # per user: the mean of the rows is the result; users are those with test labels
    per_user = result['test_per_user']
    assert per_user['user'].tolist() == sorted(labels)
    assert float(per_user['ndcg@3'].mean()) == pytest.approx(result['test']['ndcg@3'])
    assert float(per_user['text ndcg@3'].mean()) == pytest.approx(ndcg_text)
    assert float(per_user['random recall@3'].mean()) == pytest.approx(
        result['test_cold_references']['random']['recall@3'])
    assert set(result['test_cold_references']) == {'mlp', 'text', 'random'}


def test_the_llminit_reference_scores_the_items_own_features(setup):
    train, val, test, text, (users, items) = setup
    item_x = text[:, :6]  # stands for LLMInit's selected dims
    protocol = ColdItemProtocol(train, val, test, text, item_x=item_x, k=(3,))
    result = protocol.test((users, items))
    cold_test = train.cold_test_items
    recall, ndcg = _by_hand(users @ item_x[cold_test].T, _labels(test, cold_test), 3)
    assert result['test_cold_references']['llminit']['ndcg@3'] == pytest.approx(ndcg)
    assert set(result['test_cold_references']) == {'mlp', 'llminit', 'text', 'random'}
    mlp_first = ColdItemProtocol(train, val, test, text, cold_map='mlp', k=(3,)).test(
        (users, items))
    assert mlp_first['test'] == result['test_cold_references']['mlp']
    assert mlp_first['test_cold_references']['ridge'] == result['test']


def test_cold_items_are_never_negatives(setup):
    train, val, test, text, _ = setup
    protocol = ColdItemProtocol(train, val, test, text, k=(3,))
    cold = set(cold_items(train).tolist())
    assert set(protocol.negative_pool.tolist()) == set(range(30)) - cold
    sampler = NegativeSampler(train[EDGE_TYPE].edge_index, 30, items=protocol.negative_pool)
    user = torch.arange(40).repeat(50)
    neg = sampler.sample(user, torch.Generator().manual_seed(0))
    assert not set(neg.tolist()) & cold
    assert not sampler.is_known(user, neg).any()
    # negatives drawn elsewhere (LinkNeighborLoader's) are rejected when held out
    held_out = cold_items(train)
    assert sampler.rejects(torch.zeros_like(held_out), None, held_out).all()


def test_user_text_profiles_of_users_without_training_items_are_zero():
    text = torch.randn(4, 3)
    profiles = user_text_profiles(text, torch.tensor([[0, 0], [1, 2]]), 2)
    assert torch.allclose(profiles[0], F.normalize(F.normalize(text[1:3], dim=1).mean(0),
                                                   dim=0))
    assert torch.equal(profiles[1], torch.zeros(3))


def test_bad_inputs(setup):
    train, val, test, text, _ = setup
    with pytest.raises(UserInputError,
                       match=r'topk cut-offs must lie in 1\.\.6 \(the held-out valid items\)'):
        ColdItemProtocol(train, val, test, text, k=(50,))
    with pytest.raises(UserInputError, match='29 rows for 30 items'):
        ColdItemProtocol(train, val, test, text[:29], k=(3,))
    with pytest.raises(UserInputError, match='cold_map must be one of'):
        ColdItemProtocol(train, val, test, text, cold_map='knn', k=(3,))


def test_the_random_reference_is_seeded_and_scores_like_chance(setup):
    r"""The floor: the same seed gives the same ranking (and another seed another), and
    each user's expected Recall@k is k / C over the C held-out items, whatever the model."""
    train, val, test, text, (users, items) = setup
    run = lambda seed: ColdItemProtocol(train, val, test, text, k=(3,), seed=seed).test(  # noqa
        (users, items))['test_per_user']['random recall@3']
    first, again, other = run(0), run(0), run(1)
    assert torch.equal(first, again) and not torch.equal(first, other)
    chance = min(1.0, 3 / train.cold_test_items.numel())
    values = torch.cat([run(seed) for seed in range(20)])  # 20 rankings of every user
    error = float(values.std()) / values.numel() ** 0.5
    assert abs(float(values.mean()) - chance) < 4 * error
    assert abs(float(run(0).mean()) - float(ColdItemProtocol(
        train, val, test, text, k=(3,)).test((users * 0, items))['test_cold_references']
        ['random']['recall@3'])) < 1e-6  # the model plays no part in it


def test_held_out_items_by_user_group_partition_the_labelled_users(setup):
    r"""Per user-degree group on a cold split: each labelled user counts once, in the group
    of its training interactions, and the groups' weighted means give the overall ones."""
    train, val, test, text, tables = setup
    result = ColdItemProtocol(train, val, test, text, k=(3,), user_groups=(5, 8)).test(tables)
    groups = result['test_by_user_degree']
    labelled = sorted(set(test[EDGE_TYPE].edge_label_index[0].tolist()))
    degree = torch.bincount(train[EDGE_TYPE].edge_index[0], minlength=40)
    name = lambda d: '<=5' if d <= 5 else ('6-8' if d <= 8 else '>8')  # noqa: E731
    expected = {}
    for user in labelled:
        expected[name(int(degree[user]))] = expected.get(name(int(degree[user])), 0) + 1
    assert {g: v['users'] for g, v in groups.items()} == expected
    for metric in ('recall@3', 'ndcg@3'):
        weighted = sum(v['users'] * v[metric] for v in groups.values()) / len(labelled)
        assert weighted == pytest.approx(result['test'][metric])
