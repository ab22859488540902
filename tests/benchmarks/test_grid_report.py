"""The tables of ``benchmarks/grid_report.py`` and the archived grids of
``benchmarks/results/``, which must regenerate unchanged from their JSON."""
import argparse
import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / 'benchmarks'
RESULTS = BENCHMARKS / 'results'


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grid_report = load('grid_report')


def run(recall, ndcg, curve, seconds=2.0):
    return {'test': {'recall@10': recall, 'ndcg@10': ndcg}, 'val_curve': curve,
            'best_epoch': curve.index(max(curve)) + 1, 'train_epoch_seconds': seconds}


RUNS = {
    'lightgcn/none/2020': run(0.04, 0.02, [0.01, 0.03, 0.02]),
    'lightgcn/none/2021': run(0.06, 0.03, [0.02, 0.04]),
    'lightgcn/variance/2020': run(0.055, 0.0275, [0.035, 0.05]),
}


def test_table_rows_means_gains_and_first_epoch_reaching_the_baseline():
    text = grid_report.table(RUNS, ['lightgcn'], ['none', 'variance'], [2020, 2021])
    head, rule, none, variance = text.split('\n')
    assert 's/epoch' in head and rule.count('---') == 9
    # mean +- sample std over the two seeds; gain of the one variance seed vs that mean
    assert '| 0.0500 +- 0.0141 | 0.0250 +- 0.0071 | - | 2.00 | 2, 2 | 2, 2 | 2 |' in none
    assert '| 0.0550 | 0.0275 | +10.0% / +10.0% |' in variance
    # variance's curve first reaches none's best validation (0.03 at seed 2020) at epoch 1
    assert variance.endswith('| 2 | 1 | 1 |')
    no_speed = grid_report.table(RUNS, ['lightgcn'], ['none'], [2020], speed=False)
    assert 's/epoch' not in no_speed and no_speed.split('\n')[1].count('---') == 8


def test_update_doc_rewrites_only_the_marked_block_and_counts_missing_runs():
    doc = (f'# Title\n\nbefore\n{grid_report.DOC_BEGIN}\nold table\n{grid_report.DOC_END}\nafter\n')
    new = grid_report.update_doc(doc, RUNS)
    assert new.startswith('# Title\n\nbefore\n') and new.endswith(f'{grid_report.DOC_END}\nafter\n')
    assert 'old table' not in new and '| lightgcn | variance |' in new
    total = sum(len(i) for i in grid_report.PAPER_GRID.values()) * 3
    assert total == 60 and len(grid_report.missing_runs(RUNS)) == 57
    assert '3 of the 60 runs' in new
    assert 'lightgcn/none (2022)' in new and 'lightgcn/random (2020, 2021, 2022)' in new
    assert grid_report.update_doc(new, RUNS) == new  # idempotent
    with pytest.raises(SystemExit, match='no <!-- init_grid table -->'):
        grid_report.update_doc('# no block\n', RUNS)


def test_load_runs_reads_files_from_before_the_model_axis(tmp_path):
    path = tmp_path / 'grid.json'
    path.write_text('{"none/2020": {"best_epoch": 1}, "sgl/none/2020": {"best_epoch": 2}}')
    assert set(grid_report.load_runs(path)) == {'lightgcn/none/2020', 'sgl/none/2020'}


def test_group_table_means_and_paired_gains():
    groups = lambda a, b: {'<=5': {'users': 10, 'ndcg@10': a}, '>5': {'users': 5, 'ndcg@10': b}}  # noqa: E731,E501
    runs = {**RUNS}
    assert grid_report.group_table(runs, ['lightgcn'], ['none', 'variance'], [2020]) == ''
    runs['lightgcn/none/2020'] = {**RUNS['lightgcn/none/2020'],
                                  'test_by_user_degree': groups(0.02, 0.04)}
    runs['lightgcn/variance/2020'] = {**RUNS['lightgcn/variance/2020'],
                                      'test_by_user_degree': groups(0.03, 0.04)}
    text = grid_report.group_table(runs, ['lightgcn'], ['none', 'variance'], [2020, 2021])
    head, _, none, variance = text.split('\n')
    assert 'users with <=5 training interactions' in head and '>5' in head
    assert none == '| lightgcn | none | 0.0200 | 0.0400 | 1 |'
    assert variance == '| lightgcn | variance | 0.0300 (+50.0%) | 0.0400 (+0.0%) | 1 |'
    assert 'By user group' in grid_report.update_doc(
        f'{grid_report.DOC_BEGIN}\n{grid_report.DOC_END}\n', runs)


def test_run_times_group_old_and_new_spellings_of_one_thread():
    runs = {'lightgcn/none/2020': {**RUNS['lightgcn/none/2020'], 'wall_seconds': 1800.0,
                                   'device': 'x86_64 CPU, 1 threads'},  # stored before the fix
            'lightgcn/none/2021': {**RUNS['lightgcn/none/2021'], 'wall_seconds': 3600.0,
                                   'device': 'x86_64 CPU, 1 thread'},
            'lightgcn/variance/2020': {**RUNS['lightgcn/variance/2020'],
                                       'device': 'x86_64 CPU, 2 threads'}}
    text = grid_report.update_doc(f'{grid_report.DOC_BEGIN}\n{grid_report.DOC_END}\n', runs)
    assert 'x86_64 CPU, 1 thread: 1.5 h, x86_64 CPU, 2 threads: 0.0 h.' in text
    assert '1 threads' not in text


@pytest.mark.parametrize('table', sorted(p.name for p in RESULTS.glob('*.md')))
def test_committed_tables_regenerate_unchanged_from_their_json(table):
    # what `init_grid.py --report --out benchmarks/results/<grid>.json` writes (row order
    # included: see grid_report.INIT_ORDER)
    md = RESULTS / table
    runs = grid_report.load_runs(md.with_suffix('.json'))
    args = argparse.Namespace(encoder='minilm', jobs=1)  # the old init_grid.py's defaults
    assert grid_report.report(runs, args, [], 0.0) == md.read_text()


def test_backbones_doc_block_is_the_one_its_json_gives():
    doc = (BENCHMARKS / 'BACKBONES.md').read_text()
    runs = grid_report.load_runs(RESULTS / 'backbones.json')
    assert grid_report.update_doc(doc, runs) == doc
