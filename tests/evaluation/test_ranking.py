import math

import pytest
import torch

from pyg_llminit.errors import UserInputError
from pyg_llminit.evaluation import RankingEvaluator, degree_groups, popularity_scores
from pyg_llminit.models import embedding_scores


def brute_force(scores, labels, exclude, ks, per_user_values=False):
    r"""Reference metrics written from their textbook definitions, one user at a time
    (their means, or with :obj:`per_user_values` every user's, in increasing user order)."""
    per_user = {}
    for u in sorted({u for u, _ in labels}):
        rel = {i for v, i in labels if v == u}
        banned = {i for v, i in exclude if v == u}
        ranking = [i for i in sorted(range(scores.size(1)), key=lambda i: -float(scores[u, i]))
                   if i not in banned]
        for k in ks:
            top = ranking[:k]
            hits = [pos for pos, i in enumerate(top) if i in rel]
            dcg = sum(1 / math.log2(p + 2) for p in hits)
            idcg = sum(1 / math.log2(p + 2) for p in range(min(len(rel), k)))
            vals = {'recall': len(hits) / len(rel), 'precision': len(hits) / k,
                    'hit': float(bool(hits)), 'ndcg': dcg / idcg,
                    'mrr': 1 / (hits[0] + 1) if hits else 0.0}
            for m, v in vals.items():
                per_user.setdefault(f'{m}@{k}', []).append(v)
    if per_user_values:
        return per_user
    return {name: sum(v) / len(v) for name, v in per_user.items()}


def random_case(seed, num_users, num_items, draws):
    r"""``(scores [U, I], unique random (user, item) pairs [2, <=draws])`` of a seed."""
    gen = torch.Generator().manual_seed(seed)
    scores = torch.randn(num_users, num_items, generator=gen)
    pairs = torch.unique(torch.stack([torch.randint(0, num_users, (draws,), generator=gen),
                                      torch.randint(0, num_items, (draws,), generator=gen)]),
                         dim=1)
    return scores, pairs[:, torch.randperm(pairs.size(1), generator=gen)]


@pytest.mark.parametrize('batch_size', [1, 7, 1000])
def test_metrics_match_brute_force(batch_size):
    gen = torch.Generator().manual_seed(0)
    num_users, num_items = 23, 40
    scores = torch.randn(num_users, num_items, generator=gen)
    pairs = torch.randint(0, num_items, (2, 300), generator=gen)
    pairs[0] = torch.randint(0, num_users, (300,), generator=gen)
    pairs = torch.unique(pairs, dim=1)
    perm = torch.randperm(pairs.size(1), generator=gen)
    label_index = pairs[:, perm[:60]]          # several labels for most users
    exclude_index = pairs[:, perm[60:]]
    ks = (1, 5, 10)
    evaluator = RankingEvaluator(num_users, num_items, label_index, [exclude_index], k=ks,
                                 batch_size=batch_size)
    got = evaluator.evaluate(lambda users: scores[users].clone())
    want = brute_force(scores, label_index.t().tolist(), exclude_index.t().tolist(), ks)
    assert set(got) == set(want)
    for name in want:
        assert got[name] == pytest.approx(want[name], abs=1e-6), name


def test_per_user_values_match_brute_force_and_average_to_evaluate():
    num_users, num_items = 17, 30
    scores, pairs = random_case(3, num_users, num_items, 200)
    label_index, exclude_index = pairs[:, :40], pairs[:, 40:]
    evaluator = RankingEvaluator(num_users, num_items, label_index, [exclude_index],
                                 k=(3, 10), batch_size=4)
    score_fn = lambda users: scores[users].clone()  # noqa: E731
    got = evaluator.per_user(score_fn)
    want = brute_force(scores, label_index.t().tolist(), exclude_index.t().tolist(), (3, 10),
                       per_user_values=True)
    assert got['user'].tolist() == sorted(set(label_index[0].tolist()))
    for name, values in want.items():
        assert got[name].tolist() == pytest.approx(values, abs=1e-6), name
    means = evaluator.evaluate(score_fn)
    for name in want:
        assert means[name] == pytest.approx(float(got[name].mean()), abs=1e-6)


def test_reused_score_buffer_gives_the_same_metrics():
    # The buffered score_fn overwrites one buffer per chunk; chunks of 7 users end with a
    # smaller one, and a later, larger request must grow the buffer.
    gen = torch.Generator().manual_seed(1)
    emb_u, emb_i = torch.randn(23, 8, generator=gen), torch.randn(40, 8, generator=gen)
    labels = torch.stack([torch.arange(23), torch.randint(0, 40, (23,), generator=gen)])
    evaluator = RankingEvaluator(23, 40, labels, k=(1, 5), batch_size=7)
    plain = evaluator.evaluate(embedding_scores(emb_u, emb_i))
    reused = embedding_scores(emb_u, emb_i, reuse_buffer=True)
    assert evaluator.evaluate(reused) == plain
    assert torch.equal(reused(torch.arange(23)), emb_u @ emb_i.t())


def test_excluded_items_are_never_recommended():
    # Every user's best-scored items are excluded; the metric must then ignore them.
    scores = torch.arange(10.0).expand(3, -1).clone()          # item 9 best, then 8, ...
    labels = torch.tensor([[0, 1, 2], [9, 7, 0]])
    exclude = torch.tensor([[0, 1, 1], [8, 9, 8]])
    ev = RankingEvaluator(3, 10, labels, [exclude], k=(1,), metrics=('hit',))
    top = ev.top_items(lambda users: scores[users].clone(), torch.arange(3))
    assert top.view(-1).tolist() == [9, 7, 9]
    # user 0: top-1 = 9, label 9 -> hit; user 1: 7 -> hit; user 2: 9, label 0 -> miss.
    assert ev.evaluate(lambda users: scores[users].clone())['hit@1'] == pytest.approx(2 / 3)


def test_users_without_labels_do_not_count():
    labels = torch.tensor([[0], [1]])
    ev = RankingEvaluator(5, 4, labels, k=(1,), metrics=('recall',))
    emb_u, emb_i = torch.eye(5, 4), torch.eye(4)
    assert ev.evaluate(embedding_scores(emb_u, emb_i))['recall@1'] == 0.0  # user 0 -> item 0
    labels = torch.tensor([[0], [0]])
    ev = RankingEvaluator(5, 4, labels, k=(1,), metrics=('recall',))
    assert ev.evaluate(embedding_scores(emb_u, emb_i))['recall@1'] == 1.0


def test_popularity_scores():
    train = torch.tensor([[0, 1, 2, 2], [3, 3, 3, 1]])
    scores = popularity_scores(train, 4)(torch.tensor([0, 1]))
    assert scores.tolist() == [[0, 1, 0, 3]] * 2


def test_bad_arguments():
    labels = torch.tensor([[0], [0]])
    with pytest.raises(UserInputError, match='unknown metric'):
        RankingEvaluator(1, 3, labels, metrics=('auc',))
    with pytest.raises(UserInputError, match='cut-offs'):
        RankingEvaluator(1, 3, labels, k=(5,))


def test_degree_groups_bucket_users_by_training_interactions():
    train = torch.tensor([[0, 1, 1, 2, 2, 2, 2, 2, 2],
                          [0, 0, 1, 0, 1, 2, 3, 4, 5]])
    group, names = degree_groups(train, num_users=4, edges=(1, 2, 5))
    assert names == ['<=1', '2', '3-5', '>5']
    # degrees 1, 2, 6 and 0 (a user without training items is in the first group)
    assert group.tolist() == [0, 1, 3, 0]
    for bad in [(), (0, 3), (5, 3), (3, 3)]:
        with pytest.raises(UserInputError,
                           match='user_groups must be increasing positive integers'):
            degree_groups(train, 4, bad)


@pytest.mark.parametrize('batch_size', [4, 1000])
def test_group_metrics_match_brute_force_on_each_group(batch_size):
    gen = torch.Generator().manual_seed(3)
    num_users, num_items = 30, 50
    scores = torch.randn(num_users, num_items, generator=gen)
    pairs = torch.stack([torch.randint(0, num_users, (400,), generator=gen),
                         torch.randint(0, num_items, (400,), generator=gen)])
    pairs = torch.unique(pairs, dim=1)
    perm = torch.randperm(pairs.size(1), generator=gen)
    label_index, exclude_index = pairs[:, perm[:70]], pairs[:, perm[70:]]
    group, names = degree_groups(exclude_index, num_users, edges=(8, 11))
    evaluator = RankingEvaluator(num_users, num_items, label_index, [exclude_index],
                                 k=(1, 5), batch_size=batch_size)
    overall, groups = evaluator.evaluate_groups(lambda u: scores[u].clone(), group, names)
    assert overall == evaluator.evaluate(lambda u: scores[u].clone())
    labelled = torch.unique(label_index[0])
    assert sum(g['users'] for g in groups.values()) == labelled.numel()
    assert len(groups) >= 2  # the edges split this graph's labelled users
    for gid, name in enumerate(names):
        in_group = group[label_index[0]] == gid
        if not in_group.any():
            assert name not in groups
            continue
        got = dict(groups[name])
        assert got.pop('users') == int(torch.unique(label_index[0, in_group]).numel())
        want = brute_force(scores, label_index[:, in_group].t().tolist(),
                           exclude_index.t().tolist(), (1, 5))
        assert set(got) == set(want)
        for metric in want:
            assert got[metric] == pytest.approx(want[metric], abs=1e-6), (name, metric)
    # the user-weighted mean of the groups is the overall mean
    for metric in overall:
        mean = sum(g['users'] * g[metric] for g in groups.values()) / labelled.numel()
        assert mean == pytest.approx(overall[metric], abs=1e-6)


@pytest.mark.parametrize('split', ['valid', 'test'])
def test_held_out_evaluator_masks_seen_items_or_nothing(split):
    from pyg_llminit.evaluation import held_out_evaluator
    num_users, num_items = 15, 25
    scores, pairs = random_case(5, num_users, num_items, 150)
    train, val, test = pairs[:, :60], pairs[:, 60:80], pairs[:, 80:100]
    score_fn = lambda users: scores[users].clone()  # noqa: E731
    labels = val if split == 'valid' else test
    masked = held_out_evaluator(split, train, val, test, num_users, num_items, (5,))
    seen = train if split == 'valid' else torch.cat([train, val], 1)
    want = brute_force(scores, labels.t().tolist(), seen.t().tolist(), (5,))
    assert masked.evaluate(score_fn) == pytest.approx(want)
    plain = held_out_evaluator(split, train, val, test, num_users, num_items, (5,),
                               mask_seen=False)
    want = brute_force(scores, labels.t().tolist(), [], (5,))
    assert plain.evaluate(score_fn) == pytest.approx(want)


def test_item_popularity_groups_split_items_by_training_degree():
    from pyg_llminit.evaluation.groups import item_popularity_groups
    # item degrees 5, 4, 3, 2, 1, 1, 0, 0, 0, 0 over 10 items
    items = [0] * 5 + [1] * 4 + [2] * 3 + [3] * 2 + [4, 5]
    train = torch.stack([torch.zeros(len(items), dtype=torch.long), torch.tensor(items)])
    group, names = item_popularity_groups(train, 10, (0.2, 0.5))
    assert group.tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2, 2]
    assert names == ['head (top 20%)', 'torso (20-50%)', 'tail (50-100%)']
    with pytest.raises(UserInputError, match='item_groups takes two increasing shares'):
        item_popularity_groups(train, 10, (0.5, 0.2))


def test_item_group_metrics_match_brute_force_on_each_groups_labels():
    from pyg_llminit.evaluation import held_out_evaluator
    from pyg_llminit.evaluation.groups import item_popularity_groups
    from pyg_llminit.evaluation.protocol import evaluate_held_out
    num_users, num_items = 20, 30
    scores, pairs = random_case(9, num_users, num_items, 300)
    train, val, test = pairs[:, :150], pairs[:, 150:170], pairs[:, 170:200]
    evaluator = held_out_evaluator('test', train, val, test, num_users, num_items, (5,))
    result = evaluate_held_out(evaluator, lambda users: scores[users].clone(), 'test', train,
                               item_groups=(0.2, 0.5))['test_by_item_popularity']
    group, names = item_popularity_groups(train, num_items, (0.2, 0.5))
    seen = torch.cat([train, val], 1).t().tolist()
    for gid, name in enumerate(names):
        labels = test[:, group[test[1]] == gid]
        if labels.size(1) == 0:
            assert name not in result
            continue
        want = brute_force(scores, labels.t().tolist(), seen, (5,))
        assert result[name]['users'] == len(set(labels[0].tolist()))
        assert result[name]['items'] == int((group == gid).sum())
        for metric, value in want.items():
            assert result[name][metric] == pytest.approx(value), (name, metric)
