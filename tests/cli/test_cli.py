import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import torch
from click.testing import CliRunner

import click

from pyg_llminit.cli.main import cli, main
from pyg_llminit.cli.config_file import config_callback
from pyg_llminit.errors import (EXIT_CODES, DataError, StorageError, TrainingDiverged,
                                UserInputError)


def run_cli(args, tmp_path, check_exit=0):
    r"""Runs ``python -m pyg_llminit`` in a subprocess, as a user would."""
    env_home = {'PYG_LLMINIT_HOME': str(tmp_path / 'home')}
    proc = subprocess.run([sys.executable, '-m', 'pyg_llminit', *args], capture_output=True,
                          text=True, env={**os.environ, **env_home}, timeout=900)
    assert proc.returncode == check_exit, proc.stdout + proc.stderr
    return proc


def test_help_teaches():
    out = CliRunner().invoke(cli, ['train', '--help']).output
    for option in ('--graph', '--model', '--init', '--dim', '--layers', '--epochs',
                   '--batch-size', '--lr', '--seed', '--device', '--out', '--topk', '--split',
                   '--order', '--encoder', '--text-fields', 'Examples'):
        assert option in out


def test_the_top_level_help_starts_with_llminit_and_documents_exit_codes():
    out = CliRunner().invoke(cli, ['--help']).output
    start = out[out.index('Start here:'):out.index('Exit codes')]
    assert 'pyg-llminit train --graph amazon --init uniform' in start
    codes = ' '.join(out[out.index('Exit codes'):out.index('Options:')].split())
    for code, meaning in EXIT_CODES.items():  # one line each, in --help's words
        assert f'{code} {meaning}' in codes
    assert set(EXIT_CODES) == {0, 1, 2, 3, 4, 5, 130}
    assert [cls.exit_code for cls in (UserInputError, DataError, TrainingDiverged,
                                      StorageError)] == [2, 3, 4, 5]


def test_unwritable_out_folder(tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(SystemExit) as exc:
        main(['train', '--out', str(blocker / 'run')])
    assert exc.value.code == 5  # an I/O failure
    assert capsys.readouterr().err.startswith('error: --out')


@pytest.mark.slow
@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_interrupted_run_is_one_line_and_leaves_complete_files(signum, csv_graph, tmp_path):
    r"""Ctrl-C (SIGINT) or SIGTERM in the middle of training, sent to a real process."""
    out, err_file = tmp_path / 'run', tmp_path / 'stderr.txt'
    env = {**os.environ, 'PYG_LLMINIT_HOME': str(tmp_path / 'home'), 'PYTHONUNBUFFERED': '1'}
    with open(err_file, 'w') as err_out:
        proc = subprocess.Popen(
            [sys.executable, '-m', 'pyg_llminit', 'train', '--graph', str(csv_graph),
             '--dim', '8', '--batch-size', '16', '--epochs', '100000', '--patience', '100000',
             '--out', str(out)], stdout=subprocess.PIPE, stderr=err_out, text=True, env=env,
            # a runner started with SIGINT ignored (a background job) would pass that on
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watchdog = threading.Timer(120, proc.kill)  # a hung child ends the read loop below
    watchdog.start()
    try:
        # the second epoch line: epoch 1's history.json and best.pt are written by then
        epochs = 0
        for line in proc.stdout:
            epochs += line.startswith('epoch')
            if epochs == 2:
                break
        assert epochs == 2, 'the run ended or hung before its second epoch'
        proc.send_signal(signum)
        proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    err = err_file.read_text()
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('error: interrupted'), err
    names = sorted(p.name for p in out.iterdir())
    assert 'results.json' not in names and not [n for n in names if '.tmp' in n], names
    assert json.loads((out / 'history.json').read_text())  # complete, at least one epoch
    assert torch.load(out / 'best.pt', weights_only=True)


@pytest.mark.slow
def test_train_end_to_end_on_beauty_beats_most_popular(tmp_path):
    out = tmp_path / 'run'
    proc = run_cli(['train', '--graph', 'amazon', '--epochs', '3',
                    '--out', str(out), '--device', 'cpu'], tmp_path)
    text = proc.stdout
    assert text.index('users') < text.index('epoch   1')  # statistics first
    assert '22,363' in text and '198,502' in text
    assert 'test most-popular' in text
    results = json.loads((out / 'results.json').read_text())
    config = json.loads((out / 'config.json').read_text())
    history = json.loads((out / 'history.json').read_text())
    assert config['graph'] == 'amazon' and config['train']['epochs'] == 3
    assert len(history) == results['epochs_run'] == 3
    assert set(results['test']) == {f'{m}@{k}' for m in
                                   ('recall', 'ndcg', 'hit', 'precision', 'mrr')
                                   for k in (10, 20)}
    # One test item per user: Recall@K equals Hit@K.
    assert results['test']['recall@10'] == pytest.approx(results['test']['hit@10'])
    assert results['test']['ndcg@10'] > results['test_most_popular']['ndcg@10']
    assert results['test_most_popular']['ndcg@10'] == pytest.approx(0.0055, abs=5e-4)
    # test per group of users by training interactions (default groups 5, 10, 20): the
    # groups partition the 22,363 test users and their user-weighted mean is the overall
    groups = results['test_by_user_degree']
    assert list(groups) == ['<=5', '6-10', '11-20', '>20']
    assert sum(g['users'] for g in groups.values()) == 22_363
    for name, value in results['test'].items():
        mean = sum(g['users'] * g[name] for g in groups.values()) / 22_363
        assert mean == pytest.approx(value, abs=1e-5)
    assert 'test by training interactions per user' in text and '<=5' in text
    state = torch.load(out / 'best.pt', weights_only=True)
    assert state['gnn.embedding.weight'].shape == (22_363 + 12_101, 128)
    assert not list(out.glob('.*.tmp'))


def test_stats_prints_graph_statistics(tmp_path, monkeypatch):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path))
    result = CliRunner().invoke(cli, ['stats', '--graph', 'amazon-beauty'])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines()[2:])
    assert lines['users'].strip() == '22,363'
    assert lines['items'].strip() == '12,101'
    assert lines['interactions'].strip() == '198,502'
    assert (tmp_path / 'amazon-beauty' / 'processed' / 'data.pt').exists()


@pytest.mark.slow
def test_train_with_llminit_variance_on_beauty(tmp_path):
    out = tmp_path / 'run'
    proc = run_cli(['train', '--graph', 'amazon', '--init', 'variance', '--epochs', '2',
                    '--out', str(out), '--device', 'cpu'], tmp_path)
    assert "LLMInit(dim=128, strategy='variance'" in proc.stdout
    config = json.loads((out / 'config.json').read_text())
    results = json.loads((out / 'results.json').read_text())
    assert config['init'] == 'variance' and config['encoder'] == 'minilm'
    assert results['test']['ndcg@10'] > results['test_most_popular']['ndcg@10']
    # The item embeddings were cached: a second encoding reads the file.
    cached = list((tmp_path / 'home' / 'embeddings').rglob('*.safetensors'))
    assert len(cached) == 1


def test_unknown_encoder_is_one_line_error_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path / 'home'))
    with pytest.raises(SystemExit) as exc:
        main(['train', '--init', 'variance', '--encoder', 'nope', '--out',
              str(tmp_path / 'run')])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown text model 'nope'") and '\n' not in err
    assert not (tmp_path / 'run').exists()
    assert not list((tmp_path / 'home').rglob('*.safetensors'))


def test_help_reads_the_catalog_without_loading_pyg():
    r"""The CLI's choices come from :mod:`pyg_llminit.catalog`, as the package's registries
    do, and ``--help`` never imports PyG (that would slow it by 2.5 s)."""
    code = ('import sys\n'
            'from pyg_llminit.cli import main\n'
            'try:\n'
            '    main(["train", "--help"])\n'
            'except SystemExit:\n'
            '    pass\n'
            'print("torch_geometric" in sys.modules)')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip().splitlines()[-1] == 'False'
    assert '[lightgcn|sgl|sgcl|mf|ngcf|simgcl|xsimgcl]' in proc.stdout
    from pyg_llminit import catalog
    from pyg_llminit.models import MODELS
    assert list(MODELS) == list(catalog.MODELS)


@pytest.mark.parametrize('args, message', [
    (['--model', 'sgl', '--model-option', 'ssl_tau=0'], 'error: ssl_tau must be positive'),
    (['--model', 'sgl', '--model-option', 'drop_ratio=1.5'], 'error: drop_ratio must lie in'),
    (['--model', 'sgcl', '--model-option', 'tau=abc'],
     "error: option 'tau' of model 'sgcl' takes a number, got 'abc'"),
    (['--model', 'mf', '--model-option', 'ssl_tau=0.2'],
     "error: model 'mf' has no option 'ssl_tau'"),
    (['--model-option', 'noequals'], "error: --model-option takes KEY=VALUE"),
    (['--model', 'simgcl', '--model-option', 'eps=-1'], 'error: eps must be non-negative'),
])
def test_bad_model_options_are_one_line_exit_2(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(['train', *args, '--out', str(tmp_path / 'run')])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and '\n' not in err, err
    assert not (tmp_path / 'run').exists()


def test_config_file_sets_defaults_and_the_command_line_wins(tmp_path):
    from pyg_llminit.cli.config_file import model_options_of
    config = tmp_path / 'run.toml'
    config.write_text('model = "sgl"\nepochs = 7\ntopk = [5, 10]\n\n[model_options]\n'
                      'ssl_weight = 0.1\ndrop_ratio = 0.2\n')
    seen = {}

    @click.command()
    @click.option('--model', default='lightgcn')
    @click.option('--epochs', default=300)
    @click.option('--topk', default='10,20')
    @click.option('--model-option', 'model_options', multiple=True)
    @click.option('--config', is_eager=True, expose_value=False, callback=config_callback)
    def command(**kwargs):
        seen.update(kwargs, hyper=model_options_of(click.get_current_context(),
                                                   kwargs['model_options']))

    command.main(['--config', str(config), '--epochs', '3'], standalone_mode=False)
    assert seen['model'] == 'sgl' and seen['epochs'] == 3 and seen['topk'] == '5,10'
    assert seen['hyper'] == {'ssl_weight': 0.1, 'drop_ratio': 0.2}
    # a --model-option pair overrides its key only; the file's other keys stay
    command.main(['--config', str(config), '--model-option', 'drop_ratio=0.3',
                  '--model-option', 'ssl_tau=0.5'], standalone_mode=False)
    assert seen['hyper'] == {'ssl_weight': 0.1, 'drop_ratio': 0.3, 'ssl_tau': 0.5}
    config.write_text('modle = "sgl"\n')
    with pytest.raises(UserInputError, match="unknown option 'modle'"):
        command.main(['--config', str(config)], standalone_mode=False)
    config.write_text('model = \n')
    with pytest.raises(UserInputError, match='is not valid TOML'):
        command.main(['--config', str(config)], standalone_mode=False)


def test_train_reads_a_config_file(tmp_path, capsys):
    config = tmp_path / 'bad.json'
    config.write_text('{"model": "sgl", "model_options": {"ssl_tau": -1}}')
    with pytest.raises(SystemExit) as exc:
        main(['train', '--config', str(config), '--out', str(tmp_path / 'run')])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith('error: ssl_tau must be positive')


def test_shared_settings_are_not_model_options(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(['train', '--model-option', 'reg_weight=0.1', '--out', str(tmp_path / 'run')])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith('error: --model-option reg_weight: set it with --reg')


def test_train_refuses_an_out_folder_holding_files(tmp_path, cli_error):
    (tmp_path / 'config.json').write_text('{"mine": 1}')
    cli_error(['train', '--out', str(tmp_path)], f'error: --out {tmp_path} already holds '
              'files (config.json): choose another folder, or replace its run files '
              '(--overwrite')
    assert (tmp_path / 'config.json').read_text() == '{"mine": 1}'


def test_stats_force_reload_rebuilds_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path))
    assert CliRunner().invoke(cli, ['stats', '--graph', 'amazon']).exit_code == 0
    processed = next(tmp_path.rglob('processed/*.pt'))
    before = processed.stat().st_mtime_ns
    result = CliRunner().invoke(cli, ['stats', '--graph', 'amazon', '--force-reload'])
    assert result.exit_code == 0 and '22,363' in result.output
    assert processed.stat().st_mtime_ns > before


def test_protocol_paper_sets_the_authors_options_and_given_options_win(csv_graph, tmp_path):
    def config_of(*args):
        out = tmp_path / f'run{len(list(tmp_path.iterdir()))}'
        main(['train', '--graph', str(csv_graph), '--epochs', '1', '--dim', '8',
              '--device', 'cpu', '--root', str(tmp_path / 'cache'), '--out', str(out), *args])
        return json.loads((out / 'config.json').read_text())

    default = config_of()
    assert (default['order'], default['train']['batch_size'], default['train']['stopping'],
            default['train']['negatives'], default['train']['mask_seen'],
            default['normalize']) == ('time', 2048, 'strict', 'seen', True, 'none')
    paper = config_of('--protocol', 'paper')
    assert (paper['order'], paper['train']['batch_size'], paper['train']['stopping'],
            paper['train']['negatives'], paper['train']['mask_seen'],
            paper['train']['lr'], paper['normalize']) == (
        'random', 256, 'recbole', 'positive', False, 1e-3, 'minmax')
    assert paper['min_rating'] is None  # the CSV graph has no rating column: not filtered
    assert paper['embedding_dim'] == 8  # --dim given: it wins over the preset's 128
    from pyg_llminit.cli.experiment_options import protocol_flags
    assert protocol_flags('paper') == (  # the --help text, from the same preset
        '--order random --dim 128 --normalize minmax --min-rating 4 --batch-size 256 '
        '--lr 0.001 '
        '--stopping recbole --negatives positive --no-mask-seen')
    mixed = config_of('--protocol', 'paper', '--batch-size', '16', '--mask-seen')
    assert (mixed['train']['batch_size'], mixed['train']['mask_seen'],
            mixed['order']) == (16, True, 'random')


def test_an_interrupt_while_another_error_is_reported_is_one_line(monkeypatch, capsys):
    r"""torchrun's SIGTERM can land while a rank reports a dead peer's error: still one
    'interrupted' line and exit 130, never a traceback."""
    import importlib
    entry = importlib.import_module('pyg_llminit.cli.main')  # the module, not cli.main()

    def peer_died(*args, **kwargs):
        raise RuntimeError('gloo: Connection reset by peer')

    def interrupted(error):
        raise KeyboardInterrupt
    monkeypatch.setattr(entry.cli, 'main', peer_died)
    monkeypatch.setattr(entry, '_distributed_failure', interrupted)
    with pytest.raises(SystemExit) as exc:
        entry.main(['train'])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 130 and err.startswith('error: interrupted;') and '\n' not in err


def test_embed_out_writes_the_file_that_train_embedding_reads(csv_graph, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path / 'home'))
    out = tmp_path / 'shop.safetensors'
    main(['embed', '--graph', str(csv_graph), '--encoder-device', 'cpu', '--out', str(out)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].endswith(f'cached in {tmp_path / "home" / "embeddings"}')
    assert lines[-1] == f'wrote {out} (train --init variance --embedding {out})'
    from pyg_llminit.text.cache import load_embedding
    assert load_embedding(out, num_items=25).shape == (25, 384)
    main(['train', '--graph', str(csv_graph), '--init', 'variance', '--dim', '8',
          '--epochs', '1', '--device', 'cpu', '--embedding', str(out),
          '--root', str(tmp_path / 'cache'), '--out', str(tmp_path / 'run')])
    config = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert config['embedding_file'] == str(out)
    import hashlib
    vectors = json.loads((tmp_path / 'run' / 'provenance.json').read_text())['text_vectors']
    assert vectors == {'shape': [25, 384], 'sha256': hashlib.sha256(
        load_embedding(out).numpy().tobytes()).hexdigest()}  # the vectors it started from
    with pytest.raises(SystemExit):
        main(['embed', '--graph', str(csv_graph), '--out', str(tmp_path / 'x.npy')])
    assert capsys.readouterr().err.strip() == (
        f'error: --out {tmp_path / "x.npy"}: name a .safetensors file (the format '
        '--embedding reads)')


def test_train_config_of_a_run_folder_trains_that_run_again(csv_graph, tmp_path, cli_error):
    r"""``train --config RUN/config.json`` reads the run folder's own schema and ends with
    the same results.json (but the seconds)."""
    common = ['--root', str(tmp_path / 'cache')]
    main(['train', '--graph', str(csv_graph), '--model', 'sgl', '--init', 'none', '--dim',
          '8', '--epochs', '3', '--seed', '7', '--batch-size', '16', '--topk', '5,10',
          '--user-groups', 'none', '--model-option', 'ssl_weight=0.2', '--device', 'cpu',
          '--out', str(tmp_path / 'first'), *common])
    main(['train', '--config', str(tmp_path / 'first' / 'config.json'),
          '--out', str(tmp_path / 'again'), *common])

    def results(run):
        values = json.loads((tmp_path / run / 'results.json').read_text())
        return {k: v for k, v in values.items()
                if k not in ('train_seconds', 'seconds_per_epoch')}
    assert results('again') == results('first')
    assert results('again')['config']['model_options'] == {'ssl_weight': 0.2}
    config = json.loads((tmp_path / 'first' / 'config.json').read_text())
    config['train']['eval_batch_size'] = 7  # no flag sets it: refused, not dropped
    (tmp_path / 'edited.json').write_text(json.dumps(config))
    cli_error(['train', '--config', str(tmp_path / 'edited.json'), '--out',
               str(tmp_path / 'third'), *common],
              f"error: config file {tmp_path / 'edited.json'}: eval_batch_size 7 is not set by "
              'any option of this command')


def test_quiet_prints_results_only_and_the_run_keeps_every_line(csv_graph, tmp_path):
    out = tmp_path / 'run'
    proc = run_cli(['--quiet', 'train', '--graph', str(csv_graph), '--dim', '8', '--epochs',
                    '3', '--warmup', '0', '--batch-size', '16', '--device', 'cpu',
                    '--out', str(out)], tmp_path)
    assert 'epoch   1 |' not in proc.stdout and proc.stderr == ''
    assert 'interactions' in proc.stdout and 'recall@10' in proc.stdout  # stats, results
    console = (out / 'console.log').read_text()
    assert [line[:9] for line in console.splitlines() if line.startswith('epoch ')] == [
        'epoch   1', 'epoch   2', 'epoch   3']
    loud = run_cli(['train', '--graph', str(csv_graph), '--dim', '8', '--epochs', '1',
                    '--warmup', '0', '--batch-size', '16', '--device', 'cpu',
                    '--out', str(tmp_path / 'loud')], tmp_path)
    assert 'epoch   1 |' in loud.stdout


def test_quiet_and_verbose_together_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(['--quiet', '--verbose', 'stats'])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.startswith('error: --verbose and --quiet') and \
        '\n' not in err
