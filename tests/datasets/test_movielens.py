"""MovieLens 100K/1M loader on tiny files in the GroupLens layout (no network)."""
import hashlib
import io
import os
import zipfile

import pytest
import torch

from pyg_llminit.datasets import MovieLens, load_graph, movielens
from pyg_llminit.errors import UserInputError

from .conftest import Route

EDGE, REV = ('user', 'rates', 'item'), ('item', 'rated_by', 'user')
GENRES = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime',
          'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery',
          'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western']

# user item rating timestamp. With rating >= 3 and the 2-core: 3 -> 30 -> 4 -> 40 is a
# chain (40 has one rating) that unravels; 5's ratings are below 3. Left: users 1, 2 x
# items 10, 20 (4 edges).
U_DATA = [(1, 10, 5, 881250949), (1, 20, 3, 881250950), (2, 10, 4, 881250951),
          (2, 20, 4, 881250952), (3, 20, 5, 881250953), (3, 30, 4, 881250954),
          (4, 30, 4, 881250955), (4, 40, 5, 881250956), (5, 10, 1, 881250957),
          (5, 30, 2, 881250958)]
TITLES = {10: 'Toy Story (1995)', 20: 'Misérables, Les (1995)', 30: 'Être et avoir (2002)',
          40: 'Smoke (1995)'}
FLAGS = {10: ['Animation', "Children's", 'Comedy'], 20: ['Drama'], 30: ['Documentary'],
         40: ['Drama', 'Sci-Fi']}


@pytest.fixture(autouse=True)
def mirror(https_server, monkeypatch):
    r"""Downloads go to a local HTTPS server (no network in tests), empty unless a test
    puts an archive on it: ``routes['/ml-<variant>.zip'] = Route(bytes)``."""
    base, routes = https_server
    monkeypatch.setattr('pyg_llminit.datasets.movielens.URL', base + '/ml-{}.zip')
    return routes


def files_100k(genre_file=True, data=U_DATA):
    u_item = ''.join(
        f'{i}|{t}|01-Jan-1995||http://us.imdb.com/x|'
        + '|'.join('1' if g in FLAGS[i] else '0' for g in GENRES) + '\n'
        for i, t in TITLES.items())
    files = {'u.data': ''.join('\t'.join(map(str, row)) + '\n' for row in data).encode(),
             'u.item': u_item.encode('latin-1')}
    if genre_file:  # 'Sci-Fi' renamed to show that u.genre is read
        names = [g if g != 'Sci-Fi' else 'Science Fiction' for g in GENRES]
        files['u.genre'] = ''.join(f'{g}|{k}\n' for k, g in enumerate(names)).encode() + b'\n'
    return files


def files_1m():
    return {
        'ratings.dat': b'1::10::5::978300760\n1::20::4::978300761\n2::10::3::978300762\n'
                       b'2::20::2::978300763\n',
        'movies.dat': "10::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n"
                      "20::Shawshank Redemption, The (1994)::Drama\n".encode('latin-1'),
    }


def write_raw(root, variant, files):
    folder = root / 'raw' / f'ml-{variant}'
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def test_100k_filters_and_text(tmp_path):
    write_raw(tmp_path, '100k', files_100k())
    data = MovieLens(tmp_path, '100k')[0]
    assert (data['user'].num_nodes, data['item'].num_nodes) == (5, 4)
    assert data[EDGE].edge_index.size(1) == 10
    assert data['item'].ids == ['10', '20', '30', '40']
    assert data['item'].title == [TITLES[i] for i in (10, 20, 30, 40)]  # latin-1 decoded
    assert data['item'].genres == ["Animation, Children's, Comedy", 'Drama', 'Documentary',
                                   'Drama, Science Fiction']
    assert data[EDGE].time.tolist()[:2] == [881250949, 881250950]
    assert data[EDGE].rating.tolist()[:2] == [5.0, 3.0]
    assert torch.equal(data[REV].edge_index, data[EDGE].edge_index.flip(0))

    data = MovieLens(tmp_path, 'ml-100k', min_rating=3, k_core=2)[0]
    assert data['user'].ids == ['1', '2'] and data['item'].ids == ['10', '20']
    assert data[EDGE].edge_index.size(1) == 4
    assert data['item'].title == ['Toy Story (1995)', 'Misérables, Les (1995)']


def test_100k_without_genre_file(tmp_path):
    write_raw(tmp_path, '100k', files_100k(genre_file=False))
    data = MovieLens(tmp_path, '100k')[0]
    assert data['item'].genres[3] == 'Drama, Sci-Fi'


def test_1m(tmp_path):
    write_raw(tmp_path, '1m', files_1m())
    data = MovieLens(tmp_path, '1m')[0]
    assert (data['user'].num_nodes, data['item'].num_nodes) == (2, 2)
    assert data['item'].title == ["Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
                                  'Shawshank Redemption, The (1994)']
    assert data['item'].genres == ['Comedy, Romance', 'Drama']
    assert data[EDGE].time.tolist() == [978300760, 978300761, 978300762, 978300763]
    data = MovieLens(tmp_path, 'ML-1M', min_rating=4)[0]
    assert data['user'].ids == ['1'] and data[EDGE].edge_index.size(1) == 2


def test_cache_reuse_and_one_file_per_filter(tmp_path, monkeypatch):
    write_raw(tmp_path, '100k', files_100k())
    first = MovieLens(tmp_path, '100k', min_rating=3, k_core=2)
    path = first.processed_paths[0]
    mtime = os.stat(path).st_mtime_ns

    def fail(self):
        raise AssertionError('process() called although the cache exists')
    monkeypatch.setattr(MovieLens, 'process', fail)
    assert MovieLens(tmp_path, '100k', min_rating=3, k_core=2)[0]['item'].num_nodes == 2
    assert os.stat(path).st_mtime_ns == mtime
    monkeypatch.undo()
    other = MovieLens(tmp_path, '100k', min_rating=3, k_core=0)
    assert other.processed_paths[0] != path and os.path.exists(path)
    assert other[0]['item'].num_nodes == 4


def test_errors(tmp_path):
    with pytest.raises(UserInputError, match="unknown MovieLens variant '10m'"):
        MovieLens(tmp_path, '10m')
    bad = files_100k(data=U_DATA[:3] + [(4, 30, 'x', 1)])
    write_raw(tmp_path, '100k', bad)
    with pytest.raises(UserInputError, match=r"u\.data: line 4: column 'rating'"):
        MovieLens(tmp_path, '100k')
    files = files_100k()
    files['u.item'] = files['u.item'].replace(b'|0|0\n', b'|0\n', 1)
    write_raw(tmp_path, '100k', files)
    with pytest.raises(UserInputError, match=r'u\.item: line 1: 23 fields'):
        MovieLens(tmp_path, '100k')
    write_raw(tmp_path, '100k', files_100k())
    with pytest.raises(UserInputError, match='empty after 3-core'):
        MovieLens(tmp_path, '100k', k_core=3)
    with pytest.raises(UserInputError, match=r'no interaction left after rating >= 6'):
        MovieLens(tmp_path, '100k', min_rating=6)


def test_missing_files_offline(tmp_path):
    with pytest.raises(UserInputError, match='could not download .*ml-1m.zip'):
        MovieLens(tmp_path, '1m')
    assert os.listdir(tmp_path / 'raw') == []


def test_download_checks_the_pinned_digest_and_extracts(tmp_path, mirror, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as z:
        for name, content in files_1m().items():
            z.writestr(f'ml-1m/{name}', content)
    archive = buffer.getvalue()
    mirror['/ml-1m.zip'] = Route(archive)
    # the published MovieLens 1M digest does not match this small archive: refused
    with pytest.raises(UserInputError, match='md5 .* is not the pinned '
                       'c4d9eecfca2ab87c1945afe126590906; refusing the file'):
        MovieLens(tmp_path, '1m')
    assert os.listdir(tmp_path / 'raw') == []
    monkeypatch.setitem(movielens.MD5, '1m', hashlib.md5(archive).hexdigest())
    data = MovieLens(tmp_path, '1m')[0]
    assert mirror['/ml-1m.zip'].requests == 2
    assert sorted(os.listdir(tmp_path / 'raw')) == ['ml-1m']  # the archive is removed
    assert data['item'].genres == ['Comedy, Romance', 'Drama']


def test_registry(tmp_path):
    write_raw(tmp_path, '100k', files_100k())
    write_raw(tmp_path, '1m', files_1m())
    for name in ('movielens-100k', 'ml-100k', 'ML-100K'):
        assert load_graph(name, str(tmp_path))['item'].num_nodes == 4
    data = load_graph('ml-100k', str(tmp_path), min_rating=3, k_core=2)
    assert data[EDGE].edge_index.size(1) == 4
    for name in ('movielens-1m', 'ml-1m'):
        assert load_graph(name, str(tmp_path))['user'].num_nodes == 2
