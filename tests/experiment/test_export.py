"""export: a finished run's tables and ids as files that load in one line."""
import json

import numpy as np
import pytest

from pyg_llminit.cli.main import main
from pyg_llminit.experiment import load_run
from pyg_llminit.experiment.export import run_tables


def test_export_writes_tables_that_load_in_one_line(finished_run, tmp_path, capsys):
    run_dir, _, root = finished_run
    out = tmp_path / 'exported'
    main(['export', str(run_dir), '--out', str(out), '--root', str(root)])
    assert sorted(p.name for p in out.iterdir()) == [
        'embeddings.safetensors', 'export.json', 'item_ids.txt', 'user_ids.txt']
    meta = json.loads((out / 'export.json').read_text())
    namespace = {}
    exec(meta['load'], namespace)  # the documented one line
    tables = namespace['tables']
    run = load_run(run_dir, root=str(root))
    want = run_tables(run)
    for name in ('user_ego', 'item_ego', 'user_final', 'item_final'):
        np.testing.assert_array_equal(tables[name], want[name].numpy())
    assert (out / 'user_ids.txt').read_text().split('\n')[:-1] == list(run.data['user'].ids)
    assert (out / 'item_ids.txt').read_text().split('\n')[:-1] == list(run.data['item'].ids)
    # the exported final tables give the model's scores
    import torch
    scores = run.model.score_fn(run.adj)(torch.arange(3))
    np.testing.assert_allclose(tables['user_final'][:3] @ tables['item_final'].T,
                               scores.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert meta['tables']['item_final'] == list(want['item_final'].shape)


def test_export_npy_and_refusals(finished_run, tmp_path, cli_error):
    run_dir, _, root = finished_run
    out = tmp_path / 'npy'
    main(['export', str(run_dir), '--out', str(out), '--format', 'npy', '--root', str(root)])
    item_final = np.load(out / 'item_final.npy')
    assert item_final.shape[0] == len((out / 'item_ids.txt').read_text().split())
    cli_error(['export', str(run_dir), '--out', str(out)],
              f'error: --out {out} already holds files')
    cli_error(['export', str(run_dir), '--out', str(run_dir / 'x')],
              f'error: --out {run_dir / "x"} lies in the run folder')
    assert not (run_dir / 'x').exists()
    cli_error(['export', str(out), '--out', str(tmp_path / 'y')],
              f'error: {out}: no config.json')


ODD_IDS = ['plain', 'with space', ' padded ', 'comma,inside', 'quote"inside', "apo'strophe",
           '#hash', 'naïve café', '東京', '😀', 'עברית', 'nan', '007', '7', '-1', 'NULL',
           'back\\slash', 'x' * 131_000]


def _csv_field(value):
    return '"' + value.replace('"', '""') + '"'


def test_every_odd_id_round_trips_through_export(tmp_path, capsys):
    r"""Users named by every odd id train, export, and read back line for line: row r of
    the tables is line r + 1 of user_ids.txt, whatever the id."""
    graph = tmp_path / 'odd'
    graph.mkdir()
    rows = ['user,item,timestamp']
    for u, name in enumerate(ODD_IDS):
        for t in range(5):
            rows.append(f'{_csv_field(name)},{_csv_field(ODD_IDS[(u + t) % len(ODD_IDS)])},{t}')
    (graph / 'interactions.csv').write_text('\n'.join(rows) + '\n')
    cache, run, out = tmp_path / 'cache', tmp_path / 'run', tmp_path / 'export'
    main(['train', '--graph', str(graph), '--init', 'none', '--dim', '4', '--epochs', '1',
          '--topk', '5', '--monitor', 'ndcg@5', '--device', 'cpu', '--out', str(run),
          '--root', str(cache)])
    main(['export', str(run), '--out', str(out), '--format', 'npy', '--root', str(cache)])
    for kind in ('user', 'item'):
        lines = (out / f'{kind}_ids.txt').read_text(encoding='utf-8').split('\n')
        assert lines[-1] == ''  # one id per line, each ended by a newline
        assert lines[:-1] == sorted(ODD_IDS)
        assert np.load(out / f'{kind}_final.npy').shape[0] == len(ODD_IDS)
        # what splitlines() and other line readers split on is not in any id either
        assert (out / f'{kind}_ids.txt').read_text(encoding='utf-8').splitlines() == \
            sorted(ODD_IDS)


@pytest.mark.parametrize('bad', ['new\nline', 'tab\there', 'nul\x00', 'bell\x07',
                                 'line\u2028separator', 'c1\x85control'])
def test_an_id_with_a_control_character_is_refused_with_its_line(tmp_path, cli_error, bad):
    graph = tmp_path / 'bad'
    graph.mkdir()
    rows = ['user,item', 'u1,i1', 'u1,i2', f'{_csv_field(bad)},i1', 'u2,i2']
    (graph / 'interactions.csv').write_text('\n'.join(rows) + '\n')
    line = 5 if '\n' in bad else 4  # a quoted newline: the row ends on the next line
    cli_error(['train', '--graph', str(graph), '--init', 'none', '--out', str(tmp_path / 'r'),
               '--root', str(tmp_path / 'cache')],
              f'error: {graph / "interactions.csv"}: line {line}: user id {bad!r} holds a '
              'control character', code=3)
