"""Local datasets: RecBole atomic files and CSV pairs (read with the csv module)."""
import os

import pytest
import torch

from pyg_llminit.datasets import load_graph, load_local_graph
from pyg_llminit.errors import UserInputError

EDGE, REV = ('user', 'rates', 'item'), ('item', 'rated_by', 'user')

# With rating >= 3 and the 2-core, the chain d - u4 - c - u3 - b unravels and u5's low
# ratings go: left are u1, u2 x a, b (4 edges).
ROWS = [('u1', 'a', 5, 10), ('u1', 'b', 4, 11), ('u2', 'a', 3, 12), ('u2', 'b', 5, 13),
        ('u3', 'b', 4, 14), ('u3', 'c', 5, 15), ('u4', 'c', 4, 16), ('u4', 'd', 5, 17),
        ('u5', 'a', 1, 18), ('u5', 'c', 2, 19)]


def write_atomic(folder, rows=ROWS, item=True, item_header=None):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ['user_id:token\titem_id:token\trating:float\ttimestamp:float']
    lines += [f'{u}\t{i}\t{r}\t{t}.0' for u, i, r, t in rows]
    (folder / 'shop.inter').write_text('\n'.join(lines) + '\n')
    if item:
        header = item_header or 'item_id:token\ttitle:token_seq\tbrand:token\tprice:float\t' \
                                'categories:token_seq'
        (folder / 'shop.item').write_text(
            header + '\n'
            'a\tRed "Kite"\tAcme\t9.5\tToys Outdoor\n'
            'b\tBlue Ball\tAcme\t3\tToys\n'
            'c\tGreen Cube\t\t1\tToys Puzzles\n'
            'zz\tUnused\tX\t1\tY\n')
    return folder / 'shop.inter'


def write_csv(folder, rows=ROWS, items=True, header='user,item,rating,timestamp'):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [header] + [f'{u},{i},{r},{t}' for u, i, r, t in rows]
    (folder / 'interactions.csv').write_text('\n'.join(lines) + '\n')
    if items:
        (folder / 'items.csv').write_text(
            'item_id,title,description\n'
            'a,"Kite, red",Flies\n'
            'b,Blue Ball,"Bounces,\nhigh"\n'
            'd,Disc,\n')


def test_atomic_folder_and_file(tmp_path):
    inter = write_atomic(tmp_path / 'shop')
    for path in (tmp_path / 'shop', inter, str(inter)):
        data = load_local_graph(path, min_rating=3, k_core=2)
        assert data['user'].ids == ['u1', 'u2'] and data['item'].ids == ['a', 'b']
        assert data[EDGE].edge_index.size(1) == 4
    assert data['item'].title == ['Red "Kite"', 'Blue Ball']
    assert data['item'].brand == ['Acme', 'Acme']
    assert data['item'].categories == ['Toys Outdoor', 'Toys']
    assert 'price' not in data['item']
    assert data[EDGE].time.tolist() == [10, 11, 12, 13]
    assert data[EDGE].rating.tolist() == [5.0, 4.0, 3.0, 5.0]
    assert torch.equal(data[REV].edge_index, data[EDGE].edge_index.flip(0))

    data = load_local_graph(tmp_path / 'shop')  # no filter
    assert (data['user'].num_nodes, data['item'].num_nodes) == (5, 4)
    assert data[EDGE].edge_index.size(1) == 10
    assert data['item'].title == ['Red "Kite"', 'Blue Ball', 'Green Cube', '']
    assert data['item'].brand[2] == ''
    # No threshold: u5 keeps c at degree 2 once u4 (and d) go; u3 and u5 stay.
    data = load_local_graph(tmp_path / 'shop', k_core=2)
    assert data['user'].ids == ['u1', 'u2', 'u3', 'u5'] and data['item'].ids == ['a', 'b', 'c']
    assert data[EDGE].edge_index.size(1) == 8


def test_atomic_optional_columns(tmp_path):
    folder = tmp_path / 'plain'
    folder.mkdir()
    (folder / 'plain.inter').write_text('item_id:token\tuser_id:token\nx\t1\ny\t1\nx\t2\n')
    data = load_local_graph(folder)
    assert data['item'].title == ['', ''] and 'rating' not in data[EDGE]
    assert data[EDGE].time.tolist() == [0, 1, 2]  # row order when there is no timestamp
    with pytest.raises(UserInputError, match='needs a rating column'):
        load_local_graph(folder, min_rating=4)
    write_atomic(tmp_path / 'ml', item_header='item_id:token\tmovie_title:token_seq\t'
                 'brand:token\tyear:token\tclass:token_seq')
    assert load_local_graph(tmp_path / 'ml')['item'].title[0] == 'Red "Kite"'


def test_atomic_errors(tmp_path):
    write_atomic(tmp_path / 'shop', item_header='item_id:token\tname:token_seq\tbrand:token\t'
                 'price:float\tcategories:token_seq')
    with pytest.raises(UserInputError, match=r"shop\.item: missing column 'title'"):
        load_local_graph(tmp_path / 'shop')
    rows = ROWS[:2] + [('u2', 'a', 'high', 12)]
    write_atomic(tmp_path / 'bad', rows)
    with pytest.raises(UserInputError, match=r"shop\.inter: line 4: column 'rating'"):
        load_local_graph(tmp_path / 'bad')
    folder = tmp_path / 'noitem'
    folder.mkdir()
    (folder / 'x.inter').write_text('user_id:token\trating:float\n1\t2\n')
    with pytest.raises(UserInputError, match=r"x\.inter: missing column 'item_id'"):
        load_local_graph(folder)
    (folder / 'x.inter').write_text('user_id:token\titem_id:token\n1\t2\n1\n')
    with pytest.raises(UserInputError, match=r'x\.inter: line 3: 1 fields'):
        load_local_graph(folder)
    (folder / 'y.inter').write_text('user_id:token\titem_id:token\n')
    with pytest.raises(UserInputError, match='several .inter files'):
        load_local_graph(folder)
    with pytest.raises(UserInputError, match=r'y\.inter: no interactions'):
        load_local_graph(folder / 'y.inter')


def test_csv_pair(tmp_path):
    write_csv(tmp_path / 'data')
    data = load_local_graph(tmp_path / 'data', min_rating=3, k_core=2)
    assert data['user'].ids == ['u1', 'u2'] and data['item'].ids == ['a', 'b']
    assert data['item'].title == ['Kite, red', 'Blue Ball']
    assert data['item'].description == ['Flies', 'Bounces,\nhigh']
    assert data[EDGE].time.tolist() == [10, 11, 12, 13]
    data = load_local_graph(tmp_path / 'data' / 'interactions.csv', min_rating=3)
    assert data['item'].title == ['Kite, red', 'Blue Ball', '', 'Disc']
    assert data[EDGE].edge_index.size(1) == 8

    write_csv(tmp_path / 'ids', items=False, header='user_id,item_id,rating,timestamp')
    data = load_local_graph(tmp_path / 'ids')
    assert data['item'].title == [''] * 4 and data[EDGE].edge_index.size(1) == 10


def test_csv_errors(tmp_path):
    write_csv(tmp_path / 'a', header='customer,item,rating,timestamp')
    with pytest.raises(UserInputError, match=r"interactions\.csv: missing column 'user_id'"):
        load_local_graph(tmp_path / 'a')
    write_csv(tmp_path / 'b', rows=ROWS[:1] + [('u2', 'a', 5, 'noon')])
    with pytest.raises(UserInputError, match=r"interactions\.csv: line 3: column 'timestamp'"):
        load_local_graph(tmp_path / 'b')
    write_csv(tmp_path / 'c')
    (tmp_path / 'c' / 'items.csv').write_text('item_id,name\na,Kite\n')
    with pytest.raises(UserInputError, match=r"items\.csv: missing column 'title'"):
        load_local_graph(tmp_path / 'c')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(UserInputError, match='no NAME.inter'):
        load_local_graph(tmp_path / 'empty')
    with pytest.raises(UserInputError, match='no such file or folder'):
        load_local_graph(tmp_path / 'missing')
    write_csv(tmp_path / 'd')
    with pytest.raises(UserInputError, match='empty after 3-core'):
        load_local_graph(tmp_path / 'd', k_core=3)
    with pytest.raises(UserInputError, match='k_core'):
        load_local_graph(tmp_path / 'd', k_core='2')


def test_not_cached(tmp_path):
    write_atomic(tmp_path / 'shop')
    before = sorted(os.listdir(tmp_path / 'shop'))
    load_local_graph(tmp_path / 'shop')
    assert sorted(os.listdir(tmp_path / 'shop')) == before


def test_registry_paths(tmp_path, monkeypatch):
    inter = write_atomic(tmp_path / 'shop')
    write_csv(tmp_path / 'pair')
    data = load_graph(str(tmp_path / 'shop'), min_rating=3, k_core=2)
    assert data[EDGE].edge_index.size(1) == 4
    assert load_graph(str(inter))['item'].num_nodes == 4
    assert load_graph(str(tmp_path / 'pair'), k_core=2)['user'].num_nodes == 4
    monkeypatch.chdir(tmp_path)
    assert load_graph('pair')['user'].num_nodes == 5  # a relative folder name
    with pytest.raises(UserInputError, match='no such file or folder'):
        load_graph('./nowhere')
    with pytest.raises(UserInputError, match="unknown graph 'nowhere'"):
        load_graph('nowhere')


@pytest.mark.parametrize('rating, stamp, message', [
    ('nan', '1', "column 'rating': 'nan' is not a finite number"),
    ('4', 'inf', "column 'timestamp': 'inf' is not a finite number"),
    ('4', '1e30', "column 'timestamp': '1e30' is out of the 64-bit integer range"),
])
def test_non_finite_or_huge_numbers_are_one_line_errors(tmp_path, rating, stamp, message):
    folder = tmp_path / 'shop'
    folder.mkdir()
    rows = [f'u{u},i{i},4,{u * 10 + i}' for u in range(4) for i in range(4)]
    rows[3] = f'u0,i3,{rating},{stamp}'
    (folder / 'interactions.csv').write_text('user,item,rating,timestamp\n' +
                                             '\n'.join(rows) + '\n')
    with pytest.raises(UserInputError, match=r"interactions\.csv: line 5: " + message):
        load_local_graph(str(folder))
