"""Comparisons: arms x seeds as ordinary run folders, reused and resumed, summarised with
numbers checked against the run folders themselves."""
import json
import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import ExperimentConfig, RunFolder, compare
from pyg_llminit.experiment.plan import Arm, plan_arms
from pyg_llminit.training import TrainConfig

QUIET = lambda line: None  # noqa: E731


def _base(graph, epochs=4):
    return ExperimentConfig(graph=str(graph), embedding_dim=8, train=TrainConfig(
        epochs=epochs, warmup=1, patience=2, batch_size=16, device='cpu'))


@pytest.fixture(scope='module')
def comparison(tmp_path_factory, make_csv_graph):
    r"""``(out, summary, root, graph)`` of LightGCN none / variance x seeds 1, 2."""
    tmp = tmp_path_factory.mktemp('compare')
    graph = make_csv_graph(tmp / 'graph')
    out, root = tmp / 'out', str(tmp / 'cache')
    summary = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], out,
                      root=root, log=QUIET)
    return out, summary, root, graph


def test_a_run_folders_name_gives_back_its_arm_and_seed():
    for arm, seed in ((Arm('lightgcn', 'none'), 2020), (Arm('sgl', 'random-distinct'), 7)):
        assert Arm.of_folder(arm.folder(seed)) == (arm, seed)
    for other in ('lightgcn-none-seed', 'lightgcn-seed1', 'runs', 'lightgcn-none-seed1.bak'):
        assert Arm.of_folder(other) is None


def test_every_arm_and_seed_is_an_ordinary_run_folder(comparison):
    out, summary, _, _ = comparison
    assert sorted(p.name for p in (out / 'runs').iterdir()  # but the runs' lock files
                  if not p.name.startswith('.')) == [
        'lightgcn-none-seed1', 'lightgcn-none-seed2',
        'lightgcn-variance-seed1', 'lightgcn-variance-seed2']
    config = RunFolder(out / 'runs' / 'lightgcn-variance-seed2').read_config()
    assert (config.model, config.init, config.train.seed, config.split_seed) == (
        'lightgcn', 'variance', 2, 2020)
    assert {p.name for p in out.iterdir()} == {
        'spec.json', 'runs', 'compare.json', 'compare.md', 'curves.png', 'groups.png'}
    assert json.loads((out / 'compare.json').read_text()) == json.loads(json.dumps(summary))
    for png in ('curves.png', 'groups.png'):
        assert (out / png).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_compare_lists_every_runs_warnings(comparison):
    out, summary, _, _ = comparison
    expected = []
    for init in ('none', 'variance'):
        for seed in (1, 2):
            for warning in _results(out, init, seed)['warnings']:
                expected.append(f'- lightgcn/{init}, seed {seed}: {warning}')
    text = (out / 'compare.md').read_text()
    section = text.split('## Warnings\n\n', 1)[1].split('\n\n', 1)[0].splitlines()
    assert section == (expected or ['None: no run peaked early or hit the epoch cap still '
                                    'improving.'])
    assert sum(len(w) for a in summary['arms'].values()
               for w in a['warnings'].values()) == len(expected)


def _results(out, arm, seed):
    return json.loads((out / 'runs' / f'lightgcn-{arm}-seed{seed}' / 'results.json').read_text())


def test_means_gains_and_groups_match_the_run_folders(comparison):
    out, summary, _, _ = comparison
    arms = summary['arms']
    for arm in ('none', 'variance'):
        values = [_results(out, arm, s)['test']['ndcg@10'] for s in (1, 2)]
        got = arms[f'lightgcn/{arm}']['test']['ndcg@10']
        assert got['mean'] == pytest.approx(np.mean(values))
        assert got['std'] == pytest.approx(np.std(values, ddof=1))
        group = arms[f'lightgcn/{arm}']['groups']['<=5']['ndcg@10']['mean']
        assert group == pytest.approx(np.mean(
            [_results(out, arm, s)['test_by_user_degree']['<=5']['ndcg@10'] for s in (1, 2)]))
    base = arms['lightgcn/none']['test']['recall@10']['mean']
    var = arms['lightgcn/variance']['test']['recall@10']['mean']
    assert arms['lightgcn/variance']['gain']['recall@10'] == pytest.approx(var / base - 1)
    assert arms['lightgcn/none']['gain'] is None and arms['lightgcn/none']['paired'] is None
    spectra = [_results(out, 'variance', s)['embedding_collapse']['item_propagated']
               ['singular_values'] for s in (1, 2)]
    abundance = arms['lightgcn/variance']['information_abundance']['item_propagated']
    assert abundance['mean'] == pytest.approx(np.mean([sum(v) / max(v) for v in spectra]))
    rank = arms['lightgcn/variance']['effective_rank']['item_propagated']
    assert (f"{rank['mean']:.1f} ± {rank['std']:.1f} / {abundance['mean']:.1f} ± "
            f"{abundance['std']:.1f}") in (out / 'compare.md').read_text()
    minutes = sum(_results(out, arm, s)['train_seconds'] for arm in ('none', 'variance')
                  for s in (1, 2)) / 60
    assert f'{minutes:.1f} min of training summed over the runs' in (
        out / 'compare.md').read_text()


def test_the_paired_test_is_a_t_test_over_users_of_seed_means(comparison):
    out, summary, _, _ = comparison

    def per_user(arm):
        folders = [RunFolder(out / 'runs' / f'lightgcn-{arm}-seed{s}') for s in (1, 2)]
        return np.mean([f.read_per_user()['ndcg@10'].numpy() for f in folders], axis=0)

    diff = per_user('variance') - per_user('none')
    n = diff.size
    t = diff.mean() / (diff.std(ddof=1) / math.sqrt(n))
    got = summary['arms']['lightgcn/variance']['paired']['ndcg@10']
    assert got['test'].startswith('two-sided paired t-test over users')  # compare.json says
    assert got['users'] == n == 30
    assert got['mean_difference'] == pytest.approx(diff.mean())
    assert got['t'] == pytest.approx(t)
    assert got['p'] == pytest.approx(2 * student_t.sf(abs(t), n - 1))
    half = student_t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n)
    assert got['ci95'] == pytest.approx([diff.mean() - half, diff.mean() + half])


def test_per_seed_gains_pair_each_run_with_the_same_seeds_baseline(comparison):
    out, summary, _, _ = comparison
    arms = summary['arms']
    cells = []
    for seed in (1, 2):
        var = _results(out, 'variance', seed)['test']['ndcg@10']
        base = _results(out, 'none', seed)['test']['ndcg@10']
        assert arms['lightgcn/variance']['per_seed'][str(seed)]['ndcg@10'] == var
        assert arms['lightgcn/none']['per_seed'][str(seed)]['ndcg@10'] == base
        cells.append((var, var / base - 1))
    wins = sum(gain > 0 for _, gain in cells)
    row = ('| lightgcn/variance | ' + ' | '.join(f'{v:.4f} ({g:+.1%})' for v, g in cells)
           + f' | {wins}/2 |')
    text = (out / 'compare.md').read_text()
    assert '## Per seed' in text and row in text
    assert '| lightgcn/none | ' + ' | '.join(
        f"{_results(out, 'none', s)['test']['ndcg@10']:.4f}" for s in (1, 2)) + ' | baseline |' \
        in text


def test_time_to_the_baselines_best_is_read_from_the_histories(comparison):
    out, summary, _, _ = comparison
    for seed in (1, 2):
        base = json.loads((out / 'runs' / f'lightgcn-none-seed{seed}' / 'history.json')
                          .read_text())
        arm = json.loads((out / 'runs' / f'lightgcn-variance-seed{seed}' / 'history.json')
                         .read_text())
        target = max(h['val']['ndcg@10'] for h in base)
        reached = [h['epoch'] for h in arm if h['val']['ndcg@10'] >= target]
        got = summary['arms']['lightgcn/variance']['reach_baseline_best'][str(seed)]
        assert got['target'] == target
        if reached:
            first = reached[0]
            assert got['arm'] == {'epoch': first, 'seconds': pytest.approx(
                sum(h['seconds'] for h in arm[:first]))}
        else:
            assert got['arm'] is None


def test_a_second_call_reuses_finished_runs(comparison):
    out, summary, root, graph = comparison
    lines = []
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], out,
                    root=root, log=lines.append, jobs=2)
    assert '4 runs finished before, 0 to train' in '\n'.join(lines)
    assert again['arms'] == summary['arms']
    # nothing trained: wall time and jobs stay those of the invocation that trained
    assert summary['runs_trained'] == summary['runs_total'] == 4
    assert again['wall_seconds'] == summary['wall_seconds'] > 0 and again['timing_kept']
    assert again['settings']['jobs'] == summary['settings']['jobs'] == 1
    training = sum(a['train_seconds']['mean'] * 2 for a in again['arms'].values())
    assert f"1 job(s) at once, {training / 60:.1f} min of training summed over the runs, " \
        f"{summary['wall_seconds'] / 60:.1f} min of wall time in the last invocation that " \
        'trained runs (kept from the earlier summary).' in (out / 'compare.md').read_text()
    # the console ends with the test table, one row per arm, before naming the files
    table = lines[-2].splitlines()
    assert table[0].split()[:3] == ['arm', 'recall@10', 'recall@20']
    rows = {row.split()[0]: row for row in table[2:]}
    assert list(rows) == ['lightgcn/none', 'lightgcn/variance']
    assert 'baseline' in rows['lightgcn/none']
    variance = summary['arms']['lightgcn/variance']
    assert f"{variance['test']['ndcg@10']['mean']:.4f} ± " in rows['lightgcn/variance']
    assert f"{variance['gain']['ndcg@10']:+.1%}" in rows['lightgcn/variance']


def test_a_folder_without_its_per_user_tables_is_summarised(comparison, tmp_path):
    r"""A committed comparison keeps its runs' JSON files, not their per-user tables:
    summarising it again tests over the seeds that still have both tables, and an arm
    with none left has no paired test, with the gaps named in compare.md."""
    import shutil
    out, summary, root, graph = comparison
    copy = tmp_path / 'committed'
    shutil.copytree(out, copy)
    (copy / 'compare.json').unlink()  # no earlier summary to keep tests from
    (copy / 'runs' / 'lightgcn-none-seed1' / RunFolder.PER_USER).unlink()
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy,
                    root=root, log=QUIET)
    assert again['missing_per_user'] == ['lightgcn-none-seed1']
    base = RunFolder(out / 'runs' / 'lightgcn-none-seed2').read_per_user()['ndcg@10']
    arm = RunFolder(out / 'runs' / 'lightgcn-variance-seed2').read_per_user()['ndcg@10']
    got = again['arms']['lightgcn/variance']['paired']['ndcg@10']
    assert got['seeds'] == 1
    assert got['mean_difference'] == pytest.approx((arm - base).double().mean().item())
    assert again['arms']['lightgcn/variance']['test'] == summary['arms'][
        'lightgcn/variance']['test']
    for csv in copy.glob(f'runs/*/{RunFolder.PER_USER}'):
        csv.unlink()
    (copy / 'compare.json').unlink()
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy,
                    root=root, log=QUIET)
    assert again['arms']['lightgcn/variance']['paired'] == {'ndcg@10': None,
                                                            'recall@10': None}
    text = (copy / 'compare.md').read_text()
    assert 'Without a per-user table' in text and 'lightgcn-variance-seed2' in text
    unknown = 'no run trained in this invocation (the device, jobs and wall time of'
    assert unknown in text  # and no earlier summary to keep them from
    compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy, root=root,
            log=QUIET)  # nor is an earlier summary that did not train
    assert unknown in (copy / 'compare.md').read_text()
    paired = text.split('## Paired test over users')[1].split('## Per seed')[0]
    assert '| lightgcn/variance | lightgcn/none |' not in paired


def test_a_rerun_keeps_the_earlier_tests_of_the_same_runs(comparison, tmp_path):
    r"""Summarising a committed folder again (its per-user tables gone) keeps the paired
    tests its compare.json has for the same runs, and says so, instead of overwriting
    them with tests on fewer seeds; tests of other runs are not kept."""
    import shutil
    out, summary, root, graph = comparison
    copy = tmp_path / 'committed'
    shutil.copytree(out, copy)
    # what git holds of a comparison (.gitignore): no per-user tables, no weights
    for name in (RunFolder.PER_USER, RunFolder.BEST, RunFolder.LAST):
        for path in copy.glob(f'runs/*/{name}'):
            path.unlink()
    lines = []
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy,
                    root=root, log=lines.append)
    assert '4 runs finished before, 0 to train' in '\n'.join(lines)
    assert again['arms']['lightgcn/variance']['paired'] == summary['arms'][
        'lightgcn/variance']['paired']
    assert again['tests_kept'] == ['lightgcn/variance ndcg@10', 'lightgcn/variance recall@10']
    text = (copy / 'compare.md').read_text()
    assert 'Kept from the earlier summary of the same runs' in text
    row = next(line for line in text.splitlines()
               if line.startswith('| lightgcn/variance | lightgcn/none | ndcg@10 |'))
    assert row.split(' | ')[4] == '2'  # seeds
    # an earlier summary of other runs (another test value): nothing is kept
    earlier = json.loads((out / 'compare.json').read_text())
    earlier['arms']['lightgcn/none']['per_seed']['1']['ndcg@10'] += 0.01
    (copy / 'compare.json').write_text(json.dumps(earlier))
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy,
                    root=root, log=QUIET)
    assert again['arms']['lightgcn/variance']['paired'] == {'ndcg@10': None,
                                                            'recall@10': None}
    assert again['tests_kept'] == []
    # an earlier summary from before per-seed metrics: the same runs by their test means
    older = json.loads((out / 'compare.json').read_text())
    for arm in older['arms'].values():
        del arm['per_seed']
    (copy / 'compare.json').write_text(json.dumps(older))
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy,
                    root=root, log=QUIET)
    assert again['tests_kept'] == ['lightgcn/variance ndcg@10', 'lightgcn/variance recall@10']
    older['arms']['lightgcn/none']['test']['ndcg@10']['mean'] += 0.01  # other runs
    (copy / 'compare.json').write_text(json.dumps(older))
    again = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], copy,
                    root=root, log=QUIET)
    assert again['tests_kept'] == []


def test_a_setting_added_since_a_folder_was_made_counts_as_its_default(comparison):
    r"""A comparison made before a setting existed resumes when the setting is at its
    default (what the runs did then), and is refused when it is not."""
    out, _, root, graph = comparison
    spec = out / 'spec.json'
    settings = json.loads(spec.read_text())['settings']
    older = {k: v for k, v in settings.items() if k != 'cold_map'}
    older['train'] = {k: v for k, v in settings['train'].items()
                      if k not in ('item_groups', 'epochs')}
    spec.write_text(json.dumps({'settings': older}))
    with pytest.raises(UserInputError, match=r'other train\.epochs\)'):
        compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], out, root=root)
    del older['train']['negatives']
    older['train']['epochs'] = settings['train']['epochs']
    spec.write_text(json.dumps({'settings': older}))
    lines = []
    compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], out, root=root,
            log=lines.append)
    assert '4 runs finished before, 0 to train' in '\n'.join(lines)
    assert json.loads(spec.read_text())['settings'] == settings


def test_an_interrupted_comparison_resumes_where_it_stopped(comparison, tmp_path,
                                                            monkeypatch):
    r"""A Ctrl-C in the third epoch of the second run; the next call resumes that run from
    its last.pt and ends exactly where an uninterrupted comparison does."""
    _, reference, root, graph = comparison
    out = tmp_path / 'out'
    calls = []
    original = RunFolder.save_history

    def interrupt(self, history):
        original(self, history)
        calls.append(self.path.name)
        if self.path.name == 'lightgcn-none-seed2' and len(history) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunFolder, 'save_history', interrupt)
    with pytest.raises(KeyboardInterrupt):
        compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], out,
                root=root, log=QUIET)
    assert (out / 'runs' / 'lightgcn-none-seed2' / 'last.pt').is_file()
    assert not (out / 'compare.md').exists()
    monkeypatch.setattr(RunFolder, 'save_history', original)
    lines = []
    summary = compare(_base(graph), ['lightgcn'], ['none', 'variance'], [1, 2], out,
                      root=root, log=lines.append)
    assert '1 runs finished before, 3 to train' in '\n'.join(lines)
    assert 'min of wall time in this invocation, which trained 3 of the 4 runs.' in (
        out / 'compare.md').read_text()
    assert any(line.startswith('resuming after epoch 3') for line in lines)
    for name, arm in summary['arms'].items():
        assert arm['test'] == reference['arms'][name]['test'], name
        assert arm['curves'] == reference['arms'][name]['curves'], name


def test_plan_arms_and_baselines():
    arms, ref = plan_arms(['lightgcn', 'sgl'], ['none', 'variance'])
    assert [a.name for a in arms] == ['lightgcn/none', 'lightgcn/variance', 'sgl/none',
                                      'sgl/variance']
    assert ref[Arm('sgl', 'variance')] == Arm('sgl', 'none')
    arms, ref = plan_arms(['lightgcn', 'sgl'], ['none', 'variance'], 'lightgcn/none')
    assert set(ref.values()) == {Arm('lightgcn', 'none')}


@pytest.mark.parametrize('args, message', [
    (['--inits', 'none,bogus'], "error: --inits 'bogus' is unknown"),
    (['--models', 'lightgcn,gpt'], "error: --models 'gpt' is unknown"),
    (['--inits', 'variance'], 'error: --inits a comparison needs at least two arms'),
    (['--inits', 'none,variance,none'], 'error: --inits lists a value twice'),
    (['--seeds', ''], 'error: --seeds is empty'),
    (['--seeds', '1,2,1'], 'error: --seeds lists a seed twice'),
    (['--seeds', '1,x'], 'error: --seeds takes comma-separated integers'),
    (['--baseline', 'uniform'], "error: --baseline 'uniform' is not among the inits"),
    (['--baseline', 'sgl/none'], "error: --baseline 'sgl/none' is not among the arms"),
    (['--jobs', '0'], 'error: --jobs must be a positive integer'),
])
def test_bad_input_is_one_line_and_writes_nothing(args, message, cli_error, tmp_path):
    out = tmp_path / 'out'
    cli_error(['compare', '--graph', 'amazon', '--out', str(out), *args], message)
    assert not out.exists()


def test_a_folder_of_another_comparison_or_other_files_is_refused(comparison, cli_error,
                                                                   tmp_path):
    out, _, root, graph = comparison
    before = (out / 'compare.md').read_text()
    cli_error(['compare', '--graph', str(graph), '--dim', '8', '--epochs', '5', '--warmup',
               '1', '--patience', '2', '--batch-size', '16', '--root', root,
               '--out', str(out)],
              'error: --out ' + str(out) + ' holds a different comparison (other '
              'train.epochs)')
    assert (out / 'compare.md').read_text() == before
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    cli_error(['compare', '--graph', str(graph), '--out', str(other)],
              f'error: --out {other} holds files but no comparison')
    assert [p.name for p in other.iterdir()] == ['notes.txt']


@pytest.mark.slow
def test_jobs_run_trainings_in_worker_processes(comparison, tmp_path, capsys):
    r"""``compare --jobs 2`` through the CLI: the same runs as one after another, their
    output in OUT/logs, and a summary on the console."""
    from pyg_llminit.cli.main import main
    _, reference, root, graph = comparison
    out = tmp_path / 'out'
    main(['compare', '--graph', str(graph), '--dim', '8', '--epochs', '4', '--warmup', '1',
          '--patience', '2', '--batch-size', '16', '--device', 'cpu', '--root', root,
          '--seeds', '1,2', '--jobs', '2', '--out', str(out)])
    console = capsys.readouterr().out
    assert console.index('statistic') < console.index('[4/4]') < console.index('compare.md')
    assert sorted(p.name for p in (out / 'logs').iterdir()) == sorted(
        f'{p.name}.log' for p in (out / 'runs').iterdir() if not p.name.startswith('.'))
    log = (out / 'logs' / 'lightgcn-variance-seed1.log').read_text()
    assert 'epoch   1' in log and 'test most-popular' in log
    summary = json.loads((out / 'compare.json').read_text())
    assert summary['settings']['jobs'] == 2
    for name, arm in summary['arms'].items():
        for metric, value in arm['test'].items():
            assert value['mean'] == pytest.approx(
                reference['arms'][name]['test'][metric]['mean'], abs=1e-6), (name, metric)


def test_an_earlier_timing_is_kept_only_where_it_describes_these_runs(comparison,
                                                                      tmp_path):
    r"""Summarising again without training keeps the earlier wall time only when the
    earlier summary covered the same seeds and arms and knew how they were trained; a
    malformed earlier timing does not stop the earlier paired tests from being kept."""
    import shutil
    out, summary, root, graph = comparison
    copy = tmp_path / 'copy'
    shutil.copytree(out, copy)
    for path in copy.glob(f'runs/*/{RunFolder.PER_USER}'):
        path.unlink()
    earlier = json.loads((out / 'compare.json').read_text())

    def again(previous, seeds=(1, 2)):
        (copy / 'compare.json').write_text(json.dumps(previous))
        return compare(_base(graph), ['lightgcn'], ['none', 'variance'], list(seeds), copy,
                       root=root, log=QUIET), (copy / 'compare.md').read_text()

    unknown = 'no run trained in this invocation (the device, jobs and wall time'
    got, text = again(earlier, seeds=(1,))  # another set of seeds
    assert not got.get('timing_kept') and unknown in text
    legacy = {k: v for k, v in earlier.items() if k not in ('runs_trained', 'timing_kept')}
    got, text = again({**legacy, 'wall_seconds': 4e-5})  # a re-summary before runs_trained
    assert not got.get('timing_kept') and unknown in text
    got, text = again({**legacy, 'wall_seconds': 600.0})
    assert got['timing_kept'] and got['runs_trained'] is None
    assert '10.0 min of wall time in the last invocation that trained runs (how many runs ' \
        'it trained is not recorded) (kept from the earlier summary)' in text
    broken = json.loads(json.dumps(earlier))
    del broken['settings']['jobs']
    got, text = again(broken)
    assert not got.get('timing_kept') and unknown in text
    assert got['tests_kept'] == ['lightgcn/variance ndcg@10', 'lightgcn/variance recall@10']
