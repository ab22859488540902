"""--logger csv|tensorboard: what each tracker wrote, read back and held against the run's
own history.json and results.json; a resumed run keeps reporting to the same trackers."""
import csv
import importlib.util
import json

import pytest

from pyg_llminit.cli.main import main
from pyg_llminit.experiment import ExperimentConfig, resume_run, run_experiment
from pyg_llminit.experiment.trackers import check_trackers, trackers_in
from pyg_llminit.training import TrainConfig

TENSORBOARD = importlib.util.find_spec('tensorboard') is not None
needs_tensorboard = pytest.mark.skipif(not TENSORBOARD,
                                       reason='pip install "pyg-llminit[tensorboard]"')


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def read_tensorboard(folder):
    r"""``{tag: [(step, value)]}`` and ``{tag: [text]}`` of every event file in
    :obj:`folder`, through TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(folder), size_guidance={'scalars': 0, 'tensors': 0})
    events.Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)]
               for tag in events.Tags()['scalars']}
    texts = {tag: [e.tensor_proto.string_val[0].decode() for e in events.Tensors(tag)]
             for tag in events.Tags()['tensors']}
    return scalars, texts


def check_against_history(run, loggers):
    history = json.loads((run / 'history.json').read_text())
    results = json.loads((run / 'results.json').read_text())
    if 'csv' in loggers:
        rows = read_csv(run / 'metrics.csv')
        assert [int(r['epoch']) for r in rows] == [h['epoch'] for h in history]
        for row, h in zip(rows, history):
            assert float(row['loss']) == h['loss'] and float(row['seconds']) == h['seconds']
            assert {k[len('valid/'):]: float(v) for k, v in row.items()
                    if k.startswith('valid/')} == h['val']
    if 'tensorboard' in loggers:
        scalars, texts = read_tensorboard(run / 'tensorboard')
        assert [s for s, _ in scalars['train/loss']] == [h['epoch'] for h in history]
        for metric in history[0]['val']:
            assert scalars[f'valid/{metric}'] == [
                (h['epoch'], pytest.approx(h['val'][metric], rel=1e-6)) for h in history]
        for metric, value in results['test'].items():
            assert scalars[f'test/{metric}'] == [(results['best_epoch'],
                                                  pytest.approx(value, rel=1e-6))]
        assert json.loads(texts['config/text_summary'][0].strip('`\n')) == results['config']
    assert trackers_in(run) == tuple(loggers)


@needs_tensorboard
def test_csv_and_tensorboard_hold_what_the_run_holds(csv_graph, tmp_path):
    run = tmp_path / 'run'
    main(['train', '--graph', str(csv_graph), '--dim', '8', '--epochs', '4', '--warmup', '0',
          '--batch-size', '16', '--device', 'cpu', '--root', str(tmp_path / 'cache'),
          '--out', str(run), '--logger', 'csv', '--logger', 'tensorboard'])
    check_against_history(run, ('csv', 'tensorboard'))


@needs_tensorboard
def test_a_resumed_run_reports_every_epoch_once_to_its_trackers(csv_graph, tmp_path):
    config = ExperimentConfig(graph=str(csv_graph), embedding_dim=8, train=TrainConfig(
        epochs=4, warmup=0, patience=10, batch_size=16, device='cpu'))
    run = tmp_path / 'run'

    def stop_after_epoch_2(line):
        if line.startswith('epoch   2 |'):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, run, str(tmp_path / 'cache'), log=stop_after_epoch_2,
                       loggers=('csv', 'tensorboard'))
    assert [r['epoch'] for r in read_csv(run / 'metrics.csv')] == ['1', '2']
    resume_run(run, str(tmp_path / 'cache'), log=lambda line: None)
    check_against_history(run, ('csv', 'tensorboard'))
    assert len(json.loads((run / 'history.json').read_text())) == 4


def test_an_overwrite_replaces_the_earlier_runs_tracker_files(csv_graph, tmp_path):
    run, cache = tmp_path / 'run', str(tmp_path / 'cache')
    base = ['train', '--graph', str(csv_graph), '--dim', '8', '--warmup', '0',
            '--batch-size', '16', '--device', 'cpu', '--root', cache, '--out', str(run)]
    main(base + ['--epochs', '3', '--logger', 'csv'])
    main(base + ['--epochs', '2', '--overwrite'])
    assert not (run / 'metrics.csv').exists()  # a run file: replaced, not kept as the user's
    assert trackers_in(run) == ()


@pytest.mark.parametrize('argv, message, code', [
    (['--logger', 'wandb'], "error: Invalid value for '--logger': 'wandb' is not one of", 2),
])
def test_an_unknown_logger_is_one_line(csv_graph, tmp_path, cli_error, argv, message, code):
    cli_error(['train', '--graph', str(csv_graph), '--out', str(tmp_path / 'r'), *argv],
              message, code)
    assert not (tmp_path / 'r').exists()


def test_a_tracker_whose_package_is_missing_names_the_pip_command(csv_graph, tmp_path,
                                                                  monkeypatch, cli_error):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'tensorboard' else real(name, *a))
    cli_error(['train', '--graph', str(csv_graph), '--out', str(tmp_path / 'r'),
               '--logger', 'tensorboard'],
              'error: --logger tensorboard needs the package tensorboard: pip install '
              '"pyg-llminit[tensorboard]"')
    assert not (tmp_path / 'r').exists()
    with pytest.raises(ValueError, match="logger 'mlflow' is unknown"):
        check_trackers(['csv', 'mlflow'])
    assert check_trackers(['CSV', 'csv']) == ('csv',)


def test_compare_gives_its_trackers_to_every_run(csv_graph, tmp_path):
    from pyg_llminit.experiment import compare
    base = ExperimentConfig(graph=str(csv_graph), embedding_dim=8, train=TrainConfig(
        epochs=2, warmup=0, patience=2, batch_size=16, device='cpu'))
    out = tmp_path / 'cmp'
    compare(base, ['lightgcn', 'mf'], ['none'], [1], out, baseline='lightgcn/none',
            root=str(tmp_path / 'cache'), log=lambda line: None, loggers=['csv'])
    runs = sorted(p for p in (out / 'runs').iterdir() if p.is_dir())
    assert [p.name for p in runs] == ['lightgcn-none-seed1', 'mf-none-seed1']
    for run in runs:
        check_against_history(run, ('csv',))
