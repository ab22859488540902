"""``benchmarks/lightgcn_epoch.py``: the RecBole ``.inter`` file it hands RecBole's worker
reads back, with the package's own atomic-file loader, as the same graph."""
import pytest
import torch

from pyg_llminit.datasets import build_interaction_graph
from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.datasets.local import load_local_graph


def test_inter_file_round_trips(load_benchmark, small_graph, tmp_path):
    (tmp_path / 'shop').mkdir()
    path = tmp_path / 'shop' / 'shop.inter'
    load_benchmark('lightgcn_epoch').write_inter(small_graph, path)
    header = path.read_text().splitlines()[0]
    assert header == 'user_id:token\titem_id:token\trating:float\ttimestamp:float'
    back = load_local_graph(str(tmp_path / 'shop'))
    assert back['user'].ids == small_graph['user'].ids
    assert back['item'].ids == small_graph['item'].ids
    assert torch.equal(back[EDGE_TYPE].edge_index, small_graph[EDGE_TYPE].edge_index)
    assert torch.equal(back[EDGE_TYPE].time, small_graph[EDGE_TYPE].time)


@pytest.mark.parametrize('bad', ['NA', 'a\tb', ' padded', '"quoted'])
def test_ids_recbole_would_misread_are_refused(load_benchmark, tmp_path, bad):
    graph = build_interaction_graph(['u1', bad, 'u1'], ['i1', 'i1', 'i2'], time=[1, 2, 3])
    with pytest.raises(SystemExit, match='ids RecBole would misread'):
        load_benchmark('lightgcn_epoch').write_inter(graph, tmp_path / 'x.inter')
    assert not (tmp_path / 'x.inter').exists()


def test_a_missing_recbole_python_is_one_line(load_benchmark, small_graph):
    with pytest.raises(SystemExit, match='^error: cannot run --recbole-python /no/python'):
        load_benchmark('lightgcn_epoch').run_recbole('/no/python', small_graph, 1, 1)
