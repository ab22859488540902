"""Two processes, one folder: one writer per run folder, and --overwrite replaces a run
only once the new one is complete (SIGKILL at any point loses nothing)."""
import json
import os
import signal
import subprocess
import sys

import pytest

from pyg_llminit.cli.main import main
from pyg_llminit.experiment import RunFolder

ARGS = ['--init', 'none', '--dim', '8', '--batch-size', '16', '--device', 'cpu']


def _env(tmp_path):
    return {**os.environ, 'PYG_LLMINIT_HOME': str(tmp_path / 'home'),
            'PYTHONUNBUFFERED': '1'}


@pytest.fixture
def old_run(csv_graph, tmp_path):
    r"""A finished 2-epoch run, and the user's own file beside its files."""
    out = tmp_path / 'run'
    main(['train', '--graph', str(csv_graph), *ARGS, '--epochs', '2', '--out', str(out),
          '--root', str(tmp_path / 'cache')])
    (out / 'notes.txt').write_text('mine')
    return out


# Runs `train --overwrite` with the named step followed by SIGKILL: a crash with no
# clean-up of any kind at that point of the replacement.
_KILLED = r'''
import ctypes, os, signal, sys
from pyg_llminit.cli.main import main
from pyg_llminit.experiment import runs
point, argv = sys.argv[1], sys.argv[2:]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

def then_die(owner, name):
    original = getattr(owner, name)
    def step(*args, **kwargs):
        original(*args, **kwargs)
        die()
    setattr(owner, name, step)

if point == 'swap-halfway':  # the two-rename swap of a C library without renameat2
    ctypes.CDLL = lambda *a, **k: (_ for _ in ()).throw(OSError('no renameat2'))
    then_die(os, 'rename')
elif point == 'swapped':
    then_die(runs, 'swap_folders')
else:
    then_die(runs.RunFolder, point)
main(argv)
'''


@pytest.mark.slow
@pytest.mark.parametrize('point', ['write_config', 'save_best', 'save_last',
                                   'swap-halfway', 'swapped'])
def test_a_replacement_killed_at_any_point_loses_nothing(old_run, csv_graph, tmp_path,
                                                         point, snapshot):
    before = snapshot(old_run)
    argv = ['train', '--graph', str(csv_graph), *ARGS, '--epochs', '3', '--seed', '7',
            '--out', str(old_run), '--overwrite', '--root', str(tmp_path / 'cache')]
    killed = subprocess.run([sys.executable, '-c', _KILLED, point, *argv],
                            capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if point != 'swapped':  # before the new run's first epoch was complete: as it was
        RunFolder(old_run).lock().close()  # what the next writer does first
        assert snapshot(old_run) == before
    else:  # complete after epoch 1: the new run is in place, resumable, the notes kept
        assert json.loads((old_run / 'config.json').read_text())['train']['seed'] == 7
        assert (old_run / 'notes.txt').read_text() == 'mine'
        assert not (old_run / 'results.json').exists()
        main(['train', '--resume', str(old_run), '--root', str(tmp_path / 'cache')])
        assert json.loads((old_run / 'results.json').read_text())['epochs_run'] == 3
        return
    # the next --overwrite clears what the killed one left and replaces the run
    main(argv)
    assert json.loads((old_run / 'results.json').read_text())['config']['train']['seed'] == 7
    assert (old_run / 'notes.txt').read_text() == 'mine'
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.')) == \
        ['.run.lock']  # no staging folder, no folder set aside


_HOLD = r'''
import sys, time
from pyg_llminit.io import exclusive
with exclusive(sys.argv[1]):
    print('held', flush=True)
    time.sleep(600)
'''


@pytest.fixture
def held(tmp_path):
    r"""``hold(path)``: another process writes :obj:`path` (holds its lock); its pid."""
    procs = []

    def hold(path):
        proc = subprocess.Popen([sys.executable, '-c', _HOLD, str(path)],
                                stdout=subprocess.PIPE, text=True, env=_env(tmp_path))
        procs.append(proc)
        assert proc.stdout.readline().strip() == 'held'
        return proc.pid
    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def _refused(capsys, argv, target, pid):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 5 and '\n' not in err, err  # an I/O conflict
    assert err.startswith(f'error: --out {target} is being written by another pyg-llminit '
                          f'process (pid {pid})') or \
        err.startswith(f'error: --resume {target} is being written by another pyg-llminit '
                       f'process (pid {pid})'), err


def test_every_writer_refuses_a_folder_another_process_writes(old_run, csv_graph, tmp_path,
                                                              held, capsys, snapshot):
    before = snapshot(old_run)
    pid = held(old_run)
    cache = ['--root', str(tmp_path / 'cache')]
    _refused(capsys, ['train', '--graph', str(csv_graph), *ARGS, '--out', str(old_run),
                      '--overwrite', *cache], old_run, pid)
    (old_run / 'last.pt').write_bytes(b'')  # as if interrupted: a resume would start
    _refused(capsys, ['train', '--resume', str(old_run), *cache], old_run, pid)
    (old_run / 'last.pt').unlink()
    assert snapshot(old_run) == before
    out = tmp_path / 'eval.json'
    pid = held(out)
    _refused(capsys, ['evaluate', str(old_run), '--out', str(out), *cache], out, pid)
    assert not out.exists()
    cmp = tmp_path / 'cmp'
    pid = held(cmp)
    _refused(capsys, ['compare', '--graph', str(csv_graph), '--inits', 'none,variance',
                      '--seeds', '1', '--dim', '8', '--out', str(cmp), *cache], cmp, pid)
    assert not cmp.exists()


@pytest.mark.slow
def test_two_trainings_started_together_on_one_folder_one_wins(csv_graph, tmp_path):
    out = tmp_path / 'run'
    procs = [subprocess.Popen([sys.executable, '-m', 'pyg_llminit', 'train', '--graph',
                               str(csv_graph), *ARGS, '--epochs', '20', '--seed', str(seed),
                               '--out', str(out), '--root', str(tmp_path / 'cache')],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=_env(tmp_path)) for seed in (1, 2)]
    errors = [proc.communicate(timeout=300)[1] for proc in procs]
    codes = [proc.returncode for proc in procs]
    assert sorted(codes) == [0, 5], errors  # 5: an I/O conflict
    winner, loser = codes.index(0), codes.index(5)
    message = errors[loser].strip()
    assert '\n' not in message and (
        f'is being written by another pyg-llminit process (pid {procs[winner].pid})' in message
        or 'already holds files' in message), message
    # every file of the folder is the winner's
    config = json.loads((out / 'config.json').read_text())
    results = json.loads((out / 'results.json').read_text())
    assert config == results['config'] and config['train']['seed'] == winner + 1


def test_a_run_of_a_relative_graph_path_is_read_from_any_folder(csv_graph, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.chdir(csv_graph.parent)
    cache = ['--root', str(tmp_path / 'cache')]
    main(['train', '--graph', csv_graph.name, *ARGS, '--epochs', '1', '--out', 'run', *cache])
    out = csv_graph.parent / 'run'
    assert json.loads((out / 'config.json').read_text())['graph'] == str(csv_graph)
    elsewhere = tmp_path / 'elsewhere'
    (elsewhere / csv_graph.name).mkdir(parents=True)  # a folder of the same name, unrelated
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    main(['evaluate', str(out), *cache])
    assert 'recall@10' in capsys.readouterr().out
    # a run recorded before config.json held absolute paths: provenance.json has the path
    config = json.loads((out / 'config.json').read_text())
    (out / 'config.json').write_text(json.dumps({**config, 'graph': csv_graph.name}))
    main(['evaluate', str(out), *cache])
    assert 'recall@10' in capsys.readouterr().out
