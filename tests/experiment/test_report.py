"""report: finished runs side by side as markdown and plots."""
import json

import pytest

from pyg_llminit.cli.main import main


@pytest.fixture(scope='module')
def two_runs(tmp_path_factory, make_csv_graph):
    tmp = tmp_path_factory.mktemp('report')
    graph = make_csv_graph(tmp / 'graph')
    runs = []
    for init in ('none', 'uniform'):
        runs.append(tmp / init)
        main(['train', '--graph', str(graph), '--init', init, '--dim', '8', '--epochs', '3',
              '--batch-size', '16', '--device', 'cpu', '--root', str(tmp / 'cache'),
              '--out', str(runs[-1])])
    return runs


def test_report_writes_markdown_and_every_plot(two_runs, tmp_path):
    out = tmp_path / 'report'
    main(['report', *map(str, two_runs), '--out', str(out)])
    assert sorted(p.name for p in out.iterdir()) == [
        'curves.png', 'item_groups.png', 'loss.png', 'report.md', 'spectra.png',
        'user_groups.png']
    for png in out.glob('*.png'):
        assert png.read_bytes()[:4] == b'\x89PNG'
    text = (out / 'report.md').read_text()
    for run in two_runs:
        results = json.loads((run / 'results.json').read_text())
        assert (f'| {run.name} | lightgcn | {results["config"]["init"]} | '
                f'{results["test"]["recall@10"]:.4f} |') in text
        item = results['embedding_collapse']['item_propagated']
        spectrum = item['singular_values']
        assert (f'| {item["effective_rank"]:.1f} | {sum(spectrum) / max(spectrum):.1f} |'
                in text)
    assert '![spectra](spectra.png)' in text


def test_report_of_a_folder_that_is_not_a_finished_run(two_runs, tmp_path, cli_error):
    cli_error(['report', str(two_runs[0]), str(tmp_path), '--out', str(tmp_path / 'r')],
              f'error: {tmp_path}: no config.json')
    assert not (tmp_path / 'r').exists()
    cli_error(['report', '--out', str(tmp_path / 'r')],
              'error: name at least one finished run folder to report on')
