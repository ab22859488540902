"""``benchmarks/dim_sweep.py``: one comparison per embedding size, a table and a plot of
test NDCG@10 and effective rank against d."""
import json

import numpy as np
import pytest

from pyg_llminit.experiment import RunFolder, load_run


@pytest.fixture(scope='module')
def sweep_out(tmp_path_factory, make_csv_graph, load_benchmark):
    module = load_benchmark('dim_sweep')
    tmp = tmp_path_factory.mktemp('dims')
    graph, out, root = make_csv_graph(tmp / 'graph'), tmp / 'out', str(tmp / 'cache')
    module.sweep(str(graph), [4, 8], ['none', 'variance'], [1], out, epochs=2, warmup=0,
                 root=root, log=lambda line: None)
    return module, out, root


def test_one_comparison_per_d_and_a_row_per_cell(sweep_out):
    module, out, root = sweep_out
    module.report(out, [4, 8], ['none', 'variance'], root, graph='shop')
    text = (out / 'dim_sweep.md').read_text()
    assert text.startswith('# Embedding size sweep, LightGCN on shop')
    rows = [line for line in text.splitlines() if line.startswith('| 4 |')
            or line.startswith('| 8 |')]
    assert [r.split(' | ')[1] for r in rows] == ['none', 'variance', 'none', 'variance']
    cells = json.loads((out / 'dim_sweep.json').read_text())
    for d in (4, 8):
        results = json.loads((out / f'd{d}' / 'runs' / 'lightgcn-variance-seed1' /
                              RunFolder.RESULTS).read_text())
        cell = cells[f'd{d}/variance']
        assert cell['ndcg@10']['mean'] == pytest.approx(results['test']['ndcg@10'])
        rank = results['embedding_collapse']['item_propagated']['effective_rank']
        assert cell['effective_rank']['item_propagated']['mean'] == pytest.approx(rank)
        assert 1 <= rank <= d
        spectrum = results['embedding_collapse']['item_propagated']['singular_values']
        assert cell['information_abundance']['item_propagated']['mean'] == pytest.approx(
            sum(spectrum) / max(spectrum), rel=1e-5)
    assert (out / 'dim_sweep.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_runs_without_a_recorded_rank_get_it_from_their_weights(sweep_out, tmp_path):
    r"""A run reused from before ``results.json`` recorded the effective rank: the report
    computes it from ``best.pt``, the same value an independent SVD gives."""
    import shutil
    module, out, root = sweep_out
    copy = tmp_path / 'older'
    shutil.copytree(out / 'd8', copy / 'd8')
    path = copy / 'd8' / 'runs' / 'lightgcn-none-seed1' / RunFolder.RESULTS
    results = json.loads(path.read_text())
    recorded = results.pop('embedding_collapse')
    path.write_text(json.dumps(results))
    got = module.cells(copy, [8], ['none'], root)[8, 'none']['effective_rank']
    assert got['user_propagated']['mean'] == pytest.approx(
        recorded['user_propagated']['effective_rank'], rel=1e-5)
    run = load_run(copy / 'd8' / 'runs' / 'lightgcn-none-seed1', root)
    _, items = run.model(run.adj)
    s = np.linalg.svd(items.detach().double().numpy(), compute_uv=False)
    p = s / s.sum()
    assert got['item_propagated']['mean'] == pytest.approx(
        float(np.exp(-(p * np.log(p)).sum())), rel=1e-5)


def test_a_sweep_still_training_reports_its_finished_cells(sweep_out, tmp_path):
    r"""Cells are read from the finished runs, not from each d's comparison summary: a
    d whose comparison has not finished (no compare.json, a run without results) still
    shows the cells it has, with the seeds each one holds."""
    import shutil
    module, out, root = sweep_out
    copy = tmp_path / 'partial'
    shutil.copytree(out, copy)
    (copy / 'd8' / 'compare.json').unlink()
    (copy / 'd8' / 'runs' / 'lightgcn-variance-seed1' / RunFolder.RESULTS).unlink()
    found = module.cells(copy, [4, 8], ['none', 'variance'], root)
    assert sorted(found) == [(4, 'none'), (4, 'variance'), (8, 'none')]
    assert found[8, 'none']['seeds'] == [1]
    module.report(copy, [4, 8], ['none', 'variance'], root)
    rows = [line for line in (copy / 'dim_sweep.md').read_text().splitlines()
            if line.startswith('| 8 |')]
    assert len(rows) == 1 and rows[0].split(' | ')[1:3] == ['none', '1']


def test_stray_folders_and_old_runs_without_weights_do_not_stop_the_report(sweep_out,
                                                                          tmp_path):
    r"""A copy of a run folder under another name is not a seed; a run older than the
    recorded collapse measures whose best.pt is gone (weights are not committed) keeps its
    test metrics and shows '-' for the measures."""
    import shutil
    module, out, root = sweep_out
    copy = tmp_path / 'clone'
    shutil.copytree(out, copy)
    runs = copy / 'd8' / 'runs'
    shutil.copytree(runs / 'lightgcn-none-seed1', runs / 'lightgcn-none-seed1-old')
    path = runs / 'lightgcn-variance-seed1' / RunFolder.RESULTS
    results = json.loads(path.read_text())
    del results['embedding_collapse']
    path.write_text(json.dumps(results))
    (runs / 'lightgcn-variance-seed1' / RunFolder.BEST).unlink()
    found = module.cells(copy, [8], ['none', 'variance'], root)
    assert found[8, 'none']['seeds'] == [1]
    assert found[8, 'variance']['effective_rank'] is None
    assert found[8, 'variance']['test']['ndcg@10']['mean'] == results['test']['ndcg@10']
    module.report(copy, [4, 8], ['none', 'variance'], root)
    row = next(line for line in (copy / 'dim_sweep.md').read_text().splitlines()
               if line.startswith('| 8 | variance |'))
    assert row.endswith('| - | - | - | - |')
