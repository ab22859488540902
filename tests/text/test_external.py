"""Item vectors made elsewhere: read, matched by item id, checked, and used by LLMInit."""
import json

import numpy as np
import pytest
import torch

from pyg_llminit.cli.main import main
from pyg_llminit.errors import UserInputError
from pyg_llminit.text import save_embedding
from pyg_llminit.text.external import load_item_vectors

IDS = ['b', 'a', 'c']
VECTORS = {'a': [1.0, 2.0, 3.0], 'b': [4.0, 5.0, 6.0], 'c': [7.0, 8.0, 9.0],
           'z': [0.0, 0.0, 0.0]}  # z is not in the graph: ignored


def want():
    return torch.tensor([VECTORS[i] for i in IDS])


def test_csv_tsv_and_npz_are_matched_by_id(tmp_path):
    order = ['z', 'c', 'a', 'b']
    (tmp_path / 'v.csv').write_text('item,x,y,z\n' + ''.join(
        f'{i},{",".join(map(str, VECTORS[i]))}\n' for i in order))
    (tmp_path / 'v.tsv').write_text(''.join(
        f'{i}\t' + '\t'.join(map(str, VECTORS[i])) + '\n' for i in order))
    np.savez(tmp_path / 'v.npz', ids=np.array(order),
             embedding=np.array([VECTORS[i] for i in order]))
    for name in ('v.csv', 'v.tsv', 'v.npz'):
        assert torch.equal(load_item_vectors(tmp_path / name, IDS), want()), name
    save_embedding(tmp_path / 'v.safetensors', want())  # graph order, no ids
    assert torch.equal(load_item_vectors(tmp_path / 'v.safetensors', IDS), want())


@pytest.mark.parametrize('content, message', [
    ('a,1,2\nb,3,4\n', "no vector for 1 of the graph's 3 items \\(e.g. 'c'\\)"),
    ('a,1,2\nb,3,4\nc,5,6\na,7,8\n', "item id 'a' appears twice"),
    ('a,1,2\nb,3,nan\nc,5,6\n', 'holds NaN or inf values'),
    ('a,1,2\nb,3\nc,5,6\n', 'line 2 has 1 values, the rows before 2'),
    ('a,1,2\nb,x,4\nc,5,6\n', 'line 2: the values after the id must be numbers'),
    ('', 'no vectors'),
])
def test_bad_files_are_one_error_naming_the_problem(tmp_path, content, message):
    (tmp_path / 'v.csv').write_text(content)
    with pytest.raises(UserInputError, match=message):
        load_item_vectors(tmp_path / 'v.csv', IDS)


def test_train_with_an_embedding_file(csv_graph, tmp_path, cli_error):
    ids = [f'item{i}' for i in range(25)]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(25, 12))
    (tmp_path / 'e.csv').write_text(''.join(
        f'{i},{",".join(f"{v:.6f}" for v in row)}\n' for i, row in zip(ids[::-1], vectors)))
    out = tmp_path / 'run'
    main(['train', '--graph', str(csv_graph), '--init', 'uniform', '--dim', '4',
          '--embedding', str(tmp_path / 'e.csv'), '--epochs', '1', '--batch-size', '16',
          '--device', 'cpu', '--root', str(tmp_path / 'cache'), '--out', str(out)])
    config = json.loads((out / 'config.json').read_text())
    assert config['embedding_file'] == str(tmp_path / 'e.csv')
    assert 'item vectors (25, 12) from' in (out / 'console.log').read_text()
    cli_error(['train', '--graph', str(csv_graph), '--embedding', str(tmp_path / 'e.csv'),
               '--out', str(tmp_path / 'other')],
              "error: --embedding is used by LLMInit and cold-item splits only: give an --init "
              "other than 'none'")
    cli_error(['train', '--graph', str(csv_graph), '--init', 'variance', '--embedding',
               str(tmp_path / 'e.txt'), '--out', str(tmp_path / 'other')],
              f'error: --embedding {tmp_path / "e.txt"}: unknown format')
    assert not (tmp_path / 'other').exists()
