"""export: a finished run's tables and ids as files that load in one line."""
import json

import numpy as np

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
