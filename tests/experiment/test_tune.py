"""pyg-llminit tune: the same search for every arm, the best trial chosen by validation
alone (checked against the trials' own run folders), resumable, and compare --params
training each arm with its own setting."""
import importlib.util
import json

import pytest

from pyg_llminit.errors import DataError, UserInputError
from pyg_llminit.experiment import ExperimentConfig, compare
from pyg_llminit.experiment.tune import search_space, tune, tuned_params, with_params
from pyg_llminit.training import TrainConfig

pytestmark = pytest.mark.skipif(importlib.util.find_spec('optuna') is None,
                                reason='pip install "pyg-llminit[tune]"')
QUIET = lambda line: None  # noqa: E731


def base_config(graph, encoder, **changes):
    values = dict(graph=str(graph), embedding_dim=8, encoder=str(encoder),
                  train=TrainConfig(epochs=2, warmup=0, patience=2, batch_size=16,
                                    device='cpu'))
    return ExperimentConfig(**{**values, **changes})


@pytest.fixture(scope='module')
def tuned(tmp_path_factory, make_csv_graph, tiny_bert):
    r"""``(out, summary, base, root)``: LightGCN none / variance, 3 trials each."""
    tmp = tmp_path_factory.mktemp('tune')
    graph = make_csv_graph(tmp / 'graph')
    base, out, root = base_config(graph, tiny_bert), tmp / 'tuned', str(tmp / 'cache')
    summary = tune(base, ['lightgcn'], ['none', 'variance'], 3, out, root=root, log=QUIET)
    return out, summary, base, root


def trial_runs(out, arm):
    r"""``{trial number: (config.json, results.json)}`` of an arm's trial folders."""
    runs = {}
    for folder in (out / 'trials').glob(f"{arm.replace('/', '-')}-trial*"):
        if (folder / 'results.json').is_file():
            runs[int(folder.name.rsplit('trial', 1)[1])] = (
                json.loads((folder / 'config.json').read_text()),
                json.loads((folder / 'results.json').read_text()))
    return runs


def test_every_arm_gets_the_same_budget_and_first_settings(tuned):
    out, summary, base, _ = tuned
    arms = summary['arms']
    assert sorted(arms) == ['lightgcn/none', 'lightgcn/variance']
    assert [a['trials'] for a in arms.values()] == [3, 3]
    # one sampler seed: the startup (random) trials propose the same settings in each arm
    first = [a['all'][0]['params'] for a in arms.values()]
    assert first[0] == first[1] and set(first[0]) == set(search_space('lightgcn'))
    for name, (low, high, _) in search_space('lightgcn').items():
        assert all(low <= t['params'][name] <= high for a in arms.values() for t in a['all'])


def test_the_best_setting_is_the_best_validation_trial_of_the_run_folders(tuned):
    out, summary, base, _ = tuned
    monitor = base.train.monitor
    for name, arm in summary['arms'].items():
        runs = trial_runs(out, name)
        assert len(runs) == 3
        best = max(runs, key=lambda n: runs[n][1]['valid'][monitor])
        config, results = runs[best]
        assert arm['trial'] == best and arm['valid'] == results['valid'][monitor]
        assert arm['test'] == results['test']
        assert arm['params']['lr'] == config['train']['lr']
        assert arm['params']['reg_weight'] == config['reg_weight']
        assert config['init'] == name.split('/')[1]
    table = (out / 'tune.md').read_text()
    assert all(f'| {name} | 3 |' in table for name in summary['arms'])


def test_running_again_adds_trials_and_keeps_the_finished_ones(tuned, tmp_path):
    import shutil
    out, summary, base, root = tuned
    copy = tmp_path / 'copy'
    shutil.copytree(out, copy)
    before = {n: r for n, (_, r) in trial_runs(copy, 'lightgcn/none').items()}
    again = tune(base, ['lightgcn'], ['none', 'variance'], 4, copy, root=root, log=QUIET)
    assert [a['trials'] for a in again['arms'].values()] == [4, 4]
    after = trial_runs(copy, 'lightgcn/none')
    assert {n: after[n][1] for n in before} == before


def test_a_trial_cut_short_is_failed_and_tried_again(tuned, tmp_path):
    import shutil

    import optuna
    from optuna.storages.journal import JournalFileBackend
    out, summary, base, root = tuned
    copy = tmp_path / 'copy'
    shutil.copytree(out, copy)
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(copy / 'optuna.journal')))
    study = optuna.load_study(study_name='lightgcn/none', storage=storage)
    study.ask()  # a process killed in this trial leaves it RUNNING
    again = tune(base, ['lightgcn'], ['none'], 4, copy, root=root, log=QUIET)
    states = [t.state.name for t in optuna.load_study(study_name='lightgcn/none',
                                                      storage=storage).trials]
    assert states == ['COMPLETE'] * 3 + ['FAIL', 'COMPLETE']
    assert again['arms']['lightgcn/none']['trials'] == 4


def test_compare_trains_each_arm_with_its_own_tuned_setting(tuned, tmp_path):
    out, summary, base, root = tuned
    cmp = tmp_path / 'cmp'
    compare(base, ['lightgcn'], ['none', 'variance'], [1], cmp, root=root, log=QUIET,
            params=out)
    for name in ('none', 'variance'):
        config = json.loads((cmp / 'runs' / f'lightgcn-{name}-seed1' / 'config.json')
                            .read_text())
        params = summary['arms'][f'lightgcn/{name}']['params']
        assert config['train']['lr'] == params['lr']
        assert config['reg_weight'] == params['reg_weight']
    spec = json.loads((cmp / 'spec.json').read_text())
    assert spec['params'] == {n: a['params'] for n, a in summary['arms'].items()}


def test_with_params_puts_each_value_where_it_belongs(tiny_bert):
    config = base_config('amazon', tiny_bert, model='sgl')
    changed = with_params(config, {'lr': 0.003, 'reg_weight': 1e-4, 'ssl_weight': 0.2})
    assert changed.train.lr == 0.003 and changed.reg_weight == 1e-4
    assert changed.model_options == {'ssl_weight': 0.2}
    assert set(search_space('sgl')) == {'lr', 'reg_weight', 'ssl_weight', 'ssl_tau'}


def test_a_tuning_of_another_experiment_is_refused(tuned, tmp_path, make_csv_graph):
    out, summary, base, root = tuned
    other = base_config(base.graph, base.encoder, embedding_dim=16)
    from pyg_llminit.experiment.plan import Arm
    arms = [Arm('lightgcn', 'none'), Arm('lightgcn', 'variance')]
    with pytest.raises(DataError, match='tuned with other settings'):
        tuned_params(out, other, arms)
    with pytest.raises(UserInputError, match='tuned no arm lightgcn/pca'):
        tuned_params(out, base, [Arm('lightgcn', 'pca')])
    with pytest.raises(UserInputError, match='not a finished pyg-llminit tune folder'):
        tuned_params(tmp_path, base, arms)
    with pytest.raises(UserInputError, match='holds a different comparison'):
        tune(other, ['lightgcn'], ['none'], 1, out, root=root, log=QUIET)
    with pytest.raises(UserInputError, match='trials must be a positive integer'):
        tune(base, ['lightgcn'], ['none'], 0, tmp_path / 'zero', root=root, log=QUIET)
    assert not (tmp_path / 'zero').exists()


@pytest.mark.parametrize('argv, message, code', [
    (['--trials', '0'], 'error: --trials must be a positive integer, got 0', 2),
    (['--inits', 'none,nope'], "error: --inits 'nope' is unknown", 2),
])
def test_tune_bad_input_is_one_line(csv_graph, tmp_path, cli_error, argv, message, code):
    cli_error(['tune', '--graph', str(csv_graph), '--out', str(tmp_path / 't'), *argv],
              message, code)
    assert not (tmp_path / 't').exists()


def test_compare_with_a_tuning_of_another_graph_is_a_data_error(tuned, csv_graph, tmp_path,
                                                                cli_error):
    out, summary, base, root = tuned
    cli_error(['compare', '--graph', str(csv_graph), '--dim', '8', '--params', str(out),
               '--out', str(tmp_path / 'c'), '--root', root],
              f'error: --params {out} was tuned with other settings', code=3)
    assert not (tmp_path / 'c').exists()


def test_tune_without_optuna_names_the_pip_command(csv_graph, tmp_path, monkeypatch,
                                                   cli_error):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'optuna' else real(name, *a))
    cli_error(['tune', '--graph', str(csv_graph), '--out', str(tmp_path / 't')],
              'error: pyg-llminit tune needs the package optuna: pip install '
              '"pyg-llminit[tune]"')
    assert not (tmp_path / 't').exists()
