"""Amazon 2014 loader on tiny files in the original format (no network)."""
import gzip
import json
import os

import pytest
import torch

from pyg_llminit.datasets import (CATEGORIES, EDGE_TYPE, Amazon2014, load_graph,
                                  normalize_category)
from pyg_llminit.errors import UserInputError

from .conftest import Route

EDGE, REV = ('user', 'rates', 'item'), ('item', 'rated_by', 'user')

# user,item,rating,timestamp. With rating >= 4 and the 2-core, the chain
# D - u4 - C - u3 - B unravels (D has one rating; then u4, C and u3 drop to one), and
# u5's ratings are below 4: left are u1, u2 x A0001, B0002 (4 edges).
RATINGS = """u1,A0001,5.0,100
u1,B0002,5.0,101
u2,A0001,4.0,102
u2,B0002,5.0,103
u3,B0002,5.0,104
u3,C0003,4.0,105
u4,C0003,5.0,106
u4,D0004,5.0,107
u5,A0001,2.0,108
u5,B0002,3.0,109
u1,A0001,5.0,90
"""
META = [
    "{'asin': 'A0001', 'title': 'Wooden  Puzzle', 'brand': 'Melissa & Doug', "
    "'categories': [['Toys & Games', 'Puzzles'], ['Toys & Games', 'Jigsaw']], "
    "'description': 'A puzzle.', 'price': 9.99, 'related': {'also_bought': ['B0002']}}",
    "{'asin': 'B0002', 'title': \"Kid's Kite\", 'categories': [['Toys & Games']]}",
    json.dumps({'asin': 'C0003', 'title': 'Robot', 'brand': None, 'in_stock': True}),
    "{'asin': 'D0004', 'title': 'Yo-yo'}",
    "{'asin': 'Z9999', 'title': 'Never rated'}",
]


@pytest.fixture(autouse=True)
def mirror(https_server, monkeypatch):
    r"""Downloads go to a local HTTPS server (no network in tests), empty unless a test
    puts files on it: ``routes['/amazon/<file>'] = Route(bytes)``."""
    base, routes = https_server
    monkeypatch.setattr('pyg_llminit.datasets.amazon.URL', f'{base}/amazon')
    return routes


def write_raw(root, category='Toys_and_Games', ratings=RATINGS, meta=META):
    raw = root / category / 'raw'
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f'ratings_{category}.csv').write_text(ratings)
    with gzip.open(raw / f'meta_{category}.json.gz', 'wt', encoding='utf-8') as f:
        f.write('\n'.join(meta) + '\n')
    return raw


def test_filters_kcore_chain_and_text(tmp_path):
    write_raw(tmp_path)
    data = Amazon2014(tmp_path, 'Toys_and_Games', min_rating=4, k_core=2)[0]
    assert data['user'].num_nodes == 2 and data['user'].ids == ['u1', 'u2']
    assert data['item'].num_nodes == 2 and data['item'].ids == ['A0001', 'B0002']
    assert data[EDGE].edge_index.size(1) == 4
    assert data['item'].title == ['Wooden Puzzle', "Kid's Kite"]
    assert data['item'].brand == ['Melissa & Doug', '']
    assert data['item'].categories == ['Toys & Games, Puzzles, Jigsaw', 'Toys & Games']
    assert data['item'].description == ['A puzzle.', '']
    # The duplicate (u1, A0001) keeps its earliest time.
    times = {(int(u), int(i)): int(t) for (u, i), t in
             zip(data[EDGE].edge_index.t().tolist(), data[EDGE].time)}
    assert times == {(0, 0): 90, (0, 1): 101, (1, 0): 102, (1, 1): 103}
    assert data[EDGE].rating.tolist() == [5.0, 5.0, 4.0, 5.0]
    assert torch.equal(data[REV].edge_index, data[EDGE].edge_index.flip(0))


def test_other_filters(tmp_path):
    write_raw(tmp_path)
    # No threshold: u5 rates A and B and stays in the 2-core; the chain still goes.
    data = Amazon2014(tmp_path, min_rating=None, k_core=2)[0]
    assert (data['user'].num_nodes, data['item'].num_nodes) == (3, 2)
    assert data[EDGE].edge_index.size(1) == 6
    # Threshold only: u1..u4 x A..D, 8 distinct pairs; titles follow the sorted ids.
    data = Amazon2014(tmp_path, min_rating=4, k_core=0)[0]
    assert (data['user'].num_nodes, data['item'].num_nodes) == (4, 4)
    assert data[EDGE].edge_index.size(1) == 8
    assert data['item'].title == ['Wooden Puzzle', "Kid's Kite", 'Robot', 'Yo-yo']


def test_cache_reuse_and_one_file_per_filter(tmp_path, monkeypatch):
    write_raw(tmp_path)
    first = Amazon2014(tmp_path, min_rating=4, k_core=2)
    path = first.processed_paths[0]
    mtime = os.stat(path).st_mtime_ns

    def fail(self):
        raise AssertionError('process() called although the cache exists')
    monkeypatch.setattr(Amazon2014, 'process', fail)
    again = Amazon2014(tmp_path, min_rating=4, k_core=2)
    assert os.stat(path).st_mtime_ns == mtime
    assert again[0]['item'].title == first[0]['item'].title
    monkeypatch.undo()
    other = Amazon2014(tmp_path, min_rating=4, k_core=0)
    assert other.processed_paths[0] != path
    assert os.path.exists(path) and os.path.exists(other.processed_paths[0])
    assert other[0][EDGE].edge_index.size(1) == 8
    assert Amazon2014(tmp_path, min_rating=None, k_core=2).processed_paths[0] not in (
        path, other.processed_paths[0])


def test_category_names(tmp_path):
    assert len(CATEGORIES) == 24
    assert normalize_category('toys-and-games') == 'Toys_and_Games'
    assert normalize_category('TOOLS AND HOME IMPROVEMENT') == 'Tools_and_Home_Improvement'
    assert normalize_category('office-products') == 'Office_Products'
    assert normalize_category('beauty') == 'Beauty'
    assert normalize_category('Movies & TV') == 'Movies_and_TV'
    assert normalize_category('clothing-shoes-and-jewelry') == 'Clothing_Shoes_and_Jewelry'
    with pytest.raises(UserInputError, match='toys-and-games'):
        normalize_category('toys')
    write_raw(tmp_path, 'Office_Products')
    data = Amazon2014(tmp_path, 'office-products', k_core=2)
    assert data.category == 'Office_Products'
    assert data[0]['item'].num_nodes == 2


def test_malformed_files(tmp_path):
    write_raw(tmp_path, ratings=RATINGS.replace('u2,B0002,5.0', 'u2,B0002,five'))
    with pytest.raises(UserInputError, match=r'ratings_Toys_and_Games\.csv: line 4'):
        Amazon2014(tmp_path, k_core=2)
    write_raw(tmp_path, ratings='u1,A0001,5.0\n')
    with pytest.raises(UserInputError, match=r'ratings_Toys_and_Games\.csv: line 1'):
        Amazon2014(tmp_path, k_core=2)
    write_raw(tmp_path, meta=META[:1] + ["{'asin': 'B0002', 'title': "] + META[2:])
    with pytest.raises(UserInputError, match=r'meta_Toys_and_Games\.json\.gz: line 2'):
        Amazon2014(tmp_path, k_core=2)
    write_raw(tmp_path, meta=["__import__('os').remove('x')"])  # never evaluated
    with pytest.raises(UserInputError, match=r'meta_Toys_and_Games\.json\.gz: line 1'):
        Amazon2014(tmp_path, k_core=2)


def test_empty_after_filtering(tmp_path):
    write_raw(tmp_path)
    with pytest.raises(UserInputError, match='empty after 3-core'):
        Amazon2014(tmp_path, k_core=3)
    with pytest.raises(UserInputError, match='no ratings with rating >= 6'):
        Amazon2014(tmp_path, min_rating=6)
    with pytest.raises(UserInputError, match='k_core'):
        Amazon2014(tmp_path, k_core=-1)


def test_missing_raw_files_offline(tmp_path):
    with pytest.raises(UserInputError, match='could not download .*ratings_Baby.csv'):
        Amazon2014(tmp_path, 'baby')
    assert os.listdir(tmp_path / 'Baby' / 'raw') == []  # no partial file left behind


def test_download_writes_raw_files(tmp_path, mirror):
    source = write_raw(tmp_path / 'source', 'Baby')
    for name in ('ratings_Baby.csv', 'meta_Baby.json.gz'):
        mirror[f'/amazon/{name}'] = Route((source / name).read_bytes())
    data = Amazon2014(tmp_path / 'cache', 'Baby', k_core=2)[0]
    assert [route.requests for route in mirror.values()] == [1, 1]
    assert sorted(os.listdir(tmp_path / 'cache' / 'Baby' / 'raw')) == [
        'meta_Baby.json.gz', 'ratings_Baby.csv']
    assert data['item'].num_nodes == 2


def test_registry(tmp_path):
    write_raw(tmp_path)
    data = load_graph('toys-and-games', str(tmp_path), k_core=2)
    assert (data['user'].num_nodes, data['item'].num_nodes) == (2, 2)
    with pytest.raises(UserInputError, match='empty after 5-core'):  # paper default
        load_graph('toys-and-games', str(tmp_path))
    data = load_graph('amazon-2014:toys_and_games', str(tmp_path), min_rating=1, k_core=2)
    assert data[EDGE].edge_index.size(1) == 6
    write_raw(tmp_path, 'Tools_and_Home_Improvement')
    data = load_graph('tools-and-home-improvement', str(tmp_path), k_core=2)
    assert data[EDGE].num_edges == 4
    write_raw(tmp_path, 'Baby')
    assert load_graph('amazon-2014:Baby', str(tmp_path), k_core=2)['item'].num_nodes == 2
    with pytest.raises(UserInputError, match='unknown Amazon 2014 category'):
        load_graph('amazon-2014:Nope', str(tmp_path))


def test_registry_keeps_embedded_beauty(beauty, tmp_path):
    r"""Every name of the embedded Beauty loads the real graph; its filters do not apply
    (the command line refuses them), and a forced reload processes it again."""
    root = tmp_path / 'cache'
    for name, kwargs in (('amazon', {}), ('beauty', {}),
                         ('Amazon-Beauty', {'force_reload': True, 'k_core': 3})):
        data = load_graph(name, str(root), **kwargs)
        assert torch.equal(data[EDGE_TYPE].edge_index, beauty[EDGE_TYPE].edge_index), name
        assert data['item'].ids == beauty['item'].ids
    assert any(root.rglob('*.pt'))  # processed under the root it was given
