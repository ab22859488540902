import math

import numpy as np
import pytest
import torch
from torch_geometric.transforms import Compose, NormalizeFeatures

from pyg_llminit.datasets import EDGE_TYPE, build_interaction_graph
from pyg_llminit.errors import UserInputError
from pyg_llminit.models import LightGCN
from pyg_llminit.transforms.split import LeaveOneOutSplit
from pyg_llminit.transforms import (LLMInit, minmax_normalize, num_popular, select_dims,
                                    xavier_std)
from pyg_llminit.transforms.split import ColdItemSplit, cold_items


def history_graph(histories):
    r"""``{user: [item, ...]}`` in time order -> graph (ids sort: 'a' < 'b', 'i0' < 'i1')."""
    users, items, times = [], [], []
    for user, hist in histories.items():
        for t, item in enumerate(hist):
            users.append(user)
            items.append(item)
            times.append(t)
    return build_interaction_graph(users, items, time=times)


def loo(histories):
    return LeaveOneOutSplit(order='time')(history_graph(histories))


# --- select_dims: hand computations --------------------------------------------------------
def test_uniform_every_kth_dimension():
    assert select_dims(torch.randn(4, 10), 3, 'uniform').tolist() == [0, 3, 6]
    assert select_dims(torch.randn(4, 384), 128, 'uniform').tolist() == list(range(0, 384, 3))
    assert select_dims(torch.randn(4, 7), 7, 'uniform').tolist() == list(range(7))


def test_full_keeps_all_dimensions():
    assert select_dims(torch.randn(4, 6), None, 'full').tolist() == list(range(6))
    assert select_dims(torch.randn(4, 6), 6, 'full').tolist() == list(range(6))


def test_num_popular_ceil_at_least_one():
    assert num_popular(10, 0.2) == 2
    assert num_popular(10, 0.7) == 7  # 0.7 * 10 = 7.000000000000001 in floating point
    assert num_popular(5, 0.3) == 2
    assert num_popular(3, 0.01) == 1
    assert num_popular(12101, 0.2) == 2421


def test_variance_uses_popular_items_only_and_sorts_ascending():
    # Items 1 and 3 are the popular 40% (ceil(0.4 * 5) = 2).
    emb = torch.tensor([[100., 9., 9., 9.],
                        [0., 1., 2., .5],
                        [-100., 9., 9., 9.],
                        [0., -1., -2., -.5],
                        [50., 9., 9., 9.]])
    degree = torch.tensor([1, 5, 1, 4, 1])
    # Population variances over items {1, 3}: [0, 1, 4, .25] -> top 2 = {2, 1} -> [1, 2].
    assert select_dims(emb, 2, 'variance', degree, popular_ratio=0.4).tolist() == [1, 2]
    assert select_dims(emb, 3, 'variance', degree, popular_ratio=0.4).tolist() == [1, 2, 3]
    # Over all items, column 0 varies most: the unpopular items would change the answer.
    assert select_dims(emb, 2, 'variance', degree, popular_ratio=1.0).tolist() == [0, 2]


def test_variance_tie_breaking():
    # Equal degrees: the popular half is items {0, 1} (lower ids), not {2, 3}.
    emb = torch.tensor([[0., 0.], [1., 0.], [0., 0.], [0., 7.]])
    assert select_dims(emb, 1, 'variance', torch.ones(4), popular_ratio=0.5).tolist() == [0]
    # Equal variances: the lower column wins.
    emb = torch.tensor([[1., 5., 1.], [-1., 5., -1.]])
    assert select_dims(emb, 1, 'variance', torch.ones(2), popular_ratio=1.0).tolist() == [0]
    # One popular item: every variance is 0 -> the first columns.
    assert select_dims(torch.randn(5, 6), 2, 'variance', torch.arange(5), 0.1).tolist() == [0, 1]


def test_random_distinct_is_unique_and_reproducible():
    emb = torch.randn(3, 50)
    idx = select_dims(emb, 20, 'random-distinct', generator=torch.Generator().manual_seed(7))
    assert idx.numel() == 20 and idx.unique().numel() == 20
    assert idx.tolist() == sorted(idx.tolist()) and 0 <= idx.min() and idx.max() < 50
    again = select_dims(emb, 20, 'random-distinct', generator=torch.Generator().manual_seed(7))
    other = select_dims(emb, 20, 'random-distinct', generator=torch.Generator().manual_seed(8))
    assert torch.equal(idx, again) and not torch.equal(idx, other)
    full = select_dims(emb, 50, 'random-distinct', generator=torch.Generator().manual_seed(0))
    assert full.tolist() == list(range(50))


def test_random_draws_with_replacement_as_the_authors_randint():
    # P(no repeat) for 10 draws from 10 columns is 10!/10^10 ~ 4e-4.
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        idx = select_dims(torch.randn(2, 10), 10, 'random', generator=gen)
        assert idx.numel() == 10 and idx.unique().numel() < 10
        assert 0 <= idx.min() and idx.max() < 10
        # the very columns torch.randint draws from the same seed, in ascending order
        want = torch.randint(0, 10, (10,), generator=torch.Generator().manual_seed(seed))
        assert idx.tolist() == sorted(want.tolist())


def test_random_transform_seed():
    data = loo({'a': ['i0', 'i1', 'i2', 'i3'], 'b': ['i0', 'i2']})[0]
    emb = torch.randn(4, 30)
    one = LLMInit(emb, dim=8, strategy='random', seed=3)(data).llminit_index
    two = LLMInit(emb, dim=8, strategy='random', seed=3)(data).llminit_index
    ref = select_dims(emb, 8, 'random', generator=torch.Generator().manual_seed(3))
    assert torch.equal(one, two) and torch.equal(one, ref)


def test_pca_matches_numpy_svd():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(4, 6)) @ np.diag([5., 4., 3., 2., 1., .5])
    emb = np.concatenate([emb, rng.normal(size=(16, 6))])  # 20 items
    data = history_graph({f'u{u}': [f'i{i:02d}' for i in range(u, u + 3)] for u in range(18)})
    out = LLMInit(torch.from_numpy(emb), dim=3, strategy='pca')(data)
    centred = emb - emb.mean(axis=0)
    vt = np.linalg.svd(centred, full_matrices=False)[2][:3]
    vt *= np.sign(vt[np.arange(3), np.abs(vt).argmax(axis=1)])[:, None]
    np.testing.assert_allclose(out.llminit_proj.numpy(), vt.T, atol=1e-10)
    np.testing.assert_allclose(out['item'].x.numpy(), centred @ vt.T, atol=1e-10)
    assert 'llminit_index' not in out
    src, dst = out[EDGE_TYPE].edge_index.numpy()
    for u in range(18):
        np.testing.assert_allclose(out['user'].x[u].numpy(),
                                   (centred @ vt.T)[dst[src == u]].mean(axis=0), atol=1e-10)


# --- the transform -------------------------------------------------------------------------
def test_user_pooling_reads_training_edges_only():
    # a: train i0, i1 | val i2 | test i3;  b: train i0 | test i3;  c: train i2.
    train, val, test = loo({'a': ['i0', 'i1', 'i2', 'i3'], 'b': ['i0', 'i3'], 'c': ['i2']})
    emb = torch.tensor([[1., 2., 3., 4.], [3., 4., 5., 6.],
                        [1e3, -1e3, 1e3, -1e3], [-5e3, 5e3, -5e3, 5e3]])
    expected = torch.stack([(emb[0] + emb[1]) / 2, emb[0], emb[2]])
    out = LLMInit(emb, dim=None, strategy='full')(train)
    assert torch.equal(out['item'].x, emb)
    assert torch.allclose(out['user'].x, expected)
    for split in (val, test):  # the same training edges -> the same features
        assert torch.equal(LLMInit(emb, None, 'full')(split)['user'].x, out['user'].x)
    uni = LLMInit(emb, dim=2, strategy='uniform')(train)
    assert uni.llminit_index.tolist() == [0, 2]
    assert torch.allclose(uni['user'].x, expected[:, [0, 2]])
    assert 'x' not in train['user']  # the input graph is not modified


def test_user_without_training_items_gets_item_mean():
    train = loo({'a': ['i0', 'i1', 'i2'], 'b': ['i1', 'i2'], 'c': ['i0']})[0]
    store = train[EDGE_TYPE]
    keep = store.edge_index[0] != 2  # user c loses its only training edge
    store.edge_index, store.time = store.edge_index[:, keep], store.time[keep]
    emb = torch.tensor([[1., 2., 3.], [5., 6., 7.], [0., 1., 9.]])
    for strategy, dim in (('full', None), ('variance', 2), ('pca', 2)):
        out = LLMInit(emb, dim=dim, strategy=strategy, popular_ratio=0.5)(train)
        user_x, item_x = out['user'].x, out['item'].x
        assert torch.isfinite(user_x).all()
        assert torch.allclose(user_x[2], item_x.mean(dim=0), atol=1e-6)
    assert torch.allclose(LLMInit(emb, None, 'full')(train)['user'].x[2], emb.mean(dim=0))


def test_variance_transform_uses_training_degree():
    # Training degrees [4, 0, 1, 0]; all-edge degrees [4, 4, 1, 4].
    hist = {f'u{u}': ['i0', 'i1', 'i3'] for u in range(4)}
    hist['u4'] = ['i2']
    train = loo(hist)[0]
    emb = torch.tensor([[0., 0.], [0., 5.], [1., 0.], [0., 0.]])
    out = LLMInit(emb, dim=1, strategy='variance', popular_ratio=0.5)(train)
    assert out.llminit_index.tolist() == [0]  # popular {i0, i2}
    full = LLMInit(emb, dim=1, strategy='variance', popular_ratio=0.5)(history_graph(hist))
    assert full.llminit_index.tolist() == [1]  # popular {i0, i1} if val/test edges counted


def test_scale_and_xavier_std():
    assert xavier_std(10, 6) == pytest.approx(math.sqrt(2 / 16))
    table = torch.nn.init.xavier_uniform_(torch.empty(3000, 64))
    assert float(table.std()) == pytest.approx(xavier_std(3000, 64), rel=0.03)
    train = loo({'a': ['i0', 'i1', 'i2'], 'b': ['i1', 'i2', 'i3'], 'c': ['i0', 'i3']})[0]
    emb = torch.randn(4, 12, generator=torch.Generator().manual_seed(0)) * 3
    plain = LLMInit(emb, dim=4, strategy='uniform')(train)
    scaled = LLMInit(emb, dim=4, strategy='uniform', scale=0.1)(train)
    factor = 0.1 / float(plain['item'].x.std(unbiased=False))
    assert float(scaled['item'].x.std(unbiased=False)) == pytest.approx(0.1)
    assert torch.allclose(scaled['item'].x, plain['item'].x * factor)
    assert torch.allclose(scaled['user'].x, plain['user'].x * factor)


# --- normalize='minmax': RecBole's Dataset._normalize of the authors' FLOAT_SEQ field ------
def recbole_normalize(rows):
    r"""RecBole 1.2.1's ``Dataset._normalize`` for a FLOAT_SEQ field, written from its
    source: every row's values concatenated, ``(arr - min) / (max - min)`` over all of
    them at once, split back into rows (numpy, float64)."""
    lengths = [len(r) for r in rows]
    arr = np.concatenate([np.asarray(r, dtype=np.float64) for r in rows])
    mx, mn = max(arr), min(arr)
    arr = (arr - mn) / (mx - mn)
    return np.split(arr, np.cumsum(lengths)[:-1])


def test_minmax_matches_recboles_normalize_and_pools_normalised_rows():
    train = loo({'a': ['i0', 'i1', 'i2', 'i3'], 'b': ['i0', 'i3'], 'c': ['i2']})[0]
    emb = torch.tensor([[0.03, -0.05, 0.01], [0.02, 0.04, -0.01],
                        [-0.02, 0.00, 0.05], [0.01, -0.03, 0.02]])
    want = torch.tensor(np.stack(recbole_normalize(emb.tolist())), dtype=torch.float32)
    assert float(want.min()) == 0 and float(want.max()) == 1
    out = LLMInit(emb, dim=None, strategy='full', normalize='minmax')(train)
    assert torch.allclose(out['item'].x, want, atol=1e-7)
    # users: the mean of their TRAINING items' normalised rows (a: i0, i1; b: i0; c: i2)
    assert torch.allclose(out['user'].x, torch.stack(
        [(want[0] + want[1]) / 2, want[0], want[2]]), atol=1e-7)
    assert torch.equal(minmax_normalize(emb), out['item'].x)


@pytest.mark.parametrize('strategy', ['uniform', 'variance', 'random'])
def test_minmax_keeps_the_selected_dimensions(small_graph, strategy):
    train = LeaveOneOutSplit()(small_graph)[0]
    emb = torch.randn(30, 16, generator=torch.Generator().manual_seed(3)) * 0.05
    raw = LLMInit(emb, 6, strategy, seed=1)(train)
    normed = LLMInit(emb, 6, strategy, seed=1, normalize='minmax')(train)
    assert torch.equal(raw.llminit_index, normed.llminit_index)
    low, high = float(emb.min()), float(emb.max())
    assert torch.allclose(normed['item'].x, (raw['item'].x - low) / (high - low), atol=1e-6)
    assert float(normed['item'].x.min()) >= 0 and float(normed['item'].x.max()) <= 1


def test_minmax_of_a_cold_item_split_never_sees_the_held_out_items(small_graph):
    train = ColdItemSplit(0.2, seed=0)(small_graph)[0]
    cold = cold_items(train)
    emb = torch.rand(30, 8, generator=torch.Generator().manual_seed(4))
    emb[cold[0], 0] = 100.0  # a held-out item's extreme value must not set the range
    out = LLMInit(emb, None, 'full', normalize='minmax')(train)
    warm = torch.ones(30, dtype=torch.bool)
    warm[cold] = False
    assert float(out['item'].x[warm].min()) == 0 and float(out['item'].x[warm].max()) == 1
    assert float(out['item'].x[cold[0], 0]) > 1


def test_minmax_refuses_a_constant_embedding():
    with pytest.raises(UserInputError, match=r'cannot min-max normalise the item embedding: '
                       r'all its values are equal \(0.5\)'):
        LLMInit(torch.full((4, 8), 0.5), dim=2, normalize='minmax')
    LLMInit(torch.full((4, 8), 0.5), dim=2)  # nothing to normalise: allowed


def test_repr():
    emb = torch.randn(3, 256)
    assert repr(LLMInit(emb)) == "LLMInit(dim=128, strategy='variance', popular_ratio=0.2)"
    assert repr(LLMInit(emb, 64, 'uniform')) == "LLMInit(dim=64, strategy='uniform')"
    assert repr(LLMInit(emb, 64, 'random')) == "LLMInit(dim=64, strategy='random')"
    assert repr(LLMInit(emb, 64, 'random-distinct', seed=2020)) == \
        "LLMInit(dim=64, strategy='random-distinct', seed=2020)"
    assert repr(LLMInit(emb, None, 'full')) == "LLMInit(dim=256, strategy='full')"
    assert repr(LLMInit(emb, 2, 'pca', scale=0.01)) == \
        "LLMInit(dim=2, strategy='pca', scale=0.01)"
    assert repr(LLMInit(emb, 64, 'uniform', normalize='minmax')) == \
        "LLMInit(dim=64, strategy='uniform', normalize='minmax')"


@pytest.mark.parametrize('strategy', ['uniform', 'variance', 'random', 'pca', 'full'])
def test_compose_and_to_homogeneous(small_graph, strategy):
    train = LeaveOneOutSplit()(small_graph)[0]
    emb = torch.randn(30, 16, generator=torch.Generator().manual_seed(1))
    dim = 16 if strategy == 'full' else 8
    out = Compose([LLMInit(emb, dim, strategy, seed=0), NormalizeFeatures()])(train)
    assert out['user'].x.shape == (40, dim) and out['item'].x.shape == (30, dim)
    homo = out.to_homogeneous()
    assert homo.x.shape == (70, dim)
    for key, value in homo.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            assert not torch.isnan(value).any(), key


def test_features_reach_backbone():
    train = loo({'a': ['i0', 'i1', 'i2'], 'b': ['i1', 'i2', 'i3'], 'c': ['i0', 'i3']})[0]
    out = LLMInit(torch.randn(4, 10), dim=5, strategy='uniform')(train)
    model = LightGCN(3, 4, embedding_dim=5)
    model.init_from_x(out['user'].x, out['item'].x)
    users, items = model.ego_embeddings()
    assert torch.equal(users, out['user'].x) and torch.equal(items, out['item'].x)


# --- validation ----------------------------------------------------------------------------
BAD_INIT = [
    (dict(dim=0), r"dim must be in \[1, 8\]: LLMInit selects dim of the item embedding's "
                  r'8 dimensions; got 0'),
    (dict(dim=9), r"dim must be in \[1, 8\]: .* got 9"),
    (dict(dim=None), r'dim must be in \[1, 8\]'),
    (dict(strategy='max'), r"unknown LLMInit strategy 'max' \(choose from uniform, "
     r'variance, random, random-distinct, pca, full\)'),
    (dict(strategy='full', dim=4), r"strategy 'full' keeps all 8 dimensions"),
    (dict(user_pooling='max'), r"unknown user_pooling 'max' \(choose from mean\)"),
    (dict(popular_ratio=0), r'popular_ratio must be in \(0, 1\], got 0'),
    (dict(popular_ratio=1.5), r'popular_ratio must be in \(0, 1\], got 1.5'),
    (dict(scale=-1.0), r'scale must be a positive target std or None'),
    (dict(strategy='pca', dim=5), r"strategy 'pca' needs dim <= number of items \(4\)"),
    (dict(normalize='zscore'), r"unknown normalize 'zscore' \(choose from none, minmax\)"),
]


@pytest.mark.parametrize('kwargs,match', BAD_INIT)
def test_bad_arguments(kwargs, match):
    kwargs = {'dim': 2, **kwargs}
    with pytest.raises(UserInputError, match=match) as err:
        LLMInit(torch.randn(4, 8), **kwargs)
    assert '\n' not in str(err.value)


@pytest.mark.parametrize('emb,match', [
    (torch.tensor([[0., float('nan')], [1., 2.]]), 'contains NaN or inf'),
    (torch.tensor([[0., float('inf')], [1., 2.]]), 'contains NaN or inf'),
    (torch.randn(8), r'2-D \[num_items, d_LLM\] tensor, got shape \(8,\)'),
])
def test_bad_embedding(emb, match):
    with pytest.raises(UserInputError, match=match):
        LLMInit(emb, dim=1)
    with pytest.raises(UserInputError, match=match):
        select_dims(emb, 1, 'uniform')


def test_bad_graph():
    train = loo({'a': ['i0', 'i1', 'i2'], 'b': ['i1', 'i2', 'i3']})[0]
    with pytest.raises(UserInputError, match=r"has 5 rows but the graph has 4 'item' nodes"):
        LLMInit(torch.randn(5, 8), dim=2)(train)
    with pytest.raises(UserInputError, match=r"edge type \('user', 'buys', 'item'\) is not"):
        LLMInit(torch.randn(4, 8), dim=2, edge_type=('user', 'buys', 'item'))(train)
    with pytest.raises(UserInputError, match="'variance' needs the training degree"):
        select_dims(torch.randn(4, 8), 2, 'variance')


def test_real_beauty_graph(beauty):
    train = LeaveOneOutSplit(order='random')(beauty)[0]
    emb = torch.randn(12101, 384, generator=torch.Generator().manual_seed(0))
    for strategy in ('variance', 'uniform', 'pca'):  # timings: benchmarks/, not tests
        out = LLMInit(emb, dim=128, strategy=strategy)(train)
        assert out['user'].x.shape == (22363, 128) and out['item'].x.shape == (12101, 128)
        assert torch.isfinite(out['user'].x).all()
        if strategy == 'variance':
            idx = out.llminit_index
            assert idx.numel() == 128 and torch.equal(idx, idx.unique())  # sorted, unique


@pytest.mark.slow
def test_a_pyg_movielens_shaped_graph_with_movie_nodes_end_to_end(tmp_path):
    r"""A graph shaped like PyG's MovieLens (``movie`` nodes that already have ``x``, the
    genres): encode the titles of ``movie`` nodes, write LLMInit to another attribute, and
    start a backbone from it; the genres stay as they were."""
    from torch_geometric.data import HeteroData

    from pyg_llminit.text import encode_items
    data = HeteroData()
    titles = ['Toy Story (1995)', 'Jumanji (1995)', 'Heat (1995)', 'Casino (1995)',
              'Sabrina (1995)', 'GoldenEye (1995)', 'Balto (1995)', 'Nixon (1995)']
    data['movie'].x = torch.eye(8)[:, :5]  # stand-in genres, [8, 5]
    data['movie'].title = titles
    data['user'].num_nodes = 4
    edges = torch.tensor([[0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 2, 3, 4, 5, 6, 7]])
    data['user', 'rates', 'movie'].edge_index = edges
    data['movie', 'rev_rates', 'user'].edge_index = edges.flip(0)
    genres = data['movie'].x.clone()
    with pytest.raises(UserInputError, match="no node type 'item' .it has: movie, user"):
        encode_items(data, cache_dir=tmp_path, progress=False)
    embedding = encode_items(data, cache_dir=tmp_path, progress=False, node_type='movie')
    assert embedding.shape == (8, 384)
    transform = LLMInit(embedding, dim=16, edge_type=('user', 'rates', 'movie'),
                        attr='llm_x', seed=0)
    assert repr(transform) == ("LLMInit(dim=16, strategy='variance', popular_ratio=0.2, "
                               "seed=0, edge_type=('user', 'rates', 'movie'), attr='llm_x')")
    data = transform(data)
    assert torch.equal(data['movie'].x, genres)  # the graph's own features stay
    assert data['movie'].llm_x.shape == (8, 16) and data['user'].llm_x.shape == (4, 16)
    assert torch.allclose(data['user'].llm_x[0], data['movie'].llm_x[:2].mean(dim=0))
    model = LightGCN(4, 8, embedding_dim=16)
    model.init_from_x(data['user'].llm_x, data['movie'].llm_x)
    assert torch.equal(model.embedding.weight[4:], data['movie'].llm_x)
    with pytest.raises(UserInputError, match='attr must be an attribute name'):
        LLMInit(embedding, dim=16, attr='not a name')
