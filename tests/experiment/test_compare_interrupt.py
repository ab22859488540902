"""An interrupted ``compare --jobs N`` stops its workers at once, leaves no half-written
file, and resumes where it stopped."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyg_llminit.experiment import RunFolder


def _children(pid: int):
    r"""The live (not zombie) processes whose parent is :obj:`pid`."""
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            found.append(int(stat.parent.name))
    return found


def _stacks_then_kill(proc, pids) -> str:
    r"""Every thread's stack of :obj:`pids` (SIGUSR1, see the sitecustomize below), then
    the process group killed: what a hang leaves to diagnose it."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGUSR1)
        except ProcessLookupError:
            pass
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.stderr.read()


def _alive(pid: int) -> bool:
    try:
        return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_parallel_comparison_stops_every_worker(sig, csv_graph, tmp_path):
    # every process of the comparison (its spawned workers too) prints its threads' stacks
    # on SIGUSR1, so that a hang below fails with where each process waits
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(
        'import faulthandler, signal\n'
        'faulthandler.register(signal.SIGUSR1, all_threads=True)\n')
    path = os.pathsep.join(filter(None, [str(site), os.environ.get('PYTHONPATH')]))
    env = {**os.environ, 'PYG_LLMINIT_HOME': str(tmp_path / 'home'), 'PYTHONUNBUFFERED': '1',
           'PYTHONPATH': path}
    out = tmp_path / 'cmp'
    args = [sys.executable, '-m', 'pyg_llminit', 'compare', '--graph', str(csv_graph),
            '--inits', 'none,uniform', '--seeds', '1,2', '--dim', '8', '--batch-size', '16',
            '--epochs', '100000', '--warmup', '0', '--patience', '100000', '--jobs', '2',
            '--out', str(out)]
    # its own session (killpg reaches the workers if the test fails) and SIGINT handled as
    # by default even where the shell started pytest with SIGINT ignored
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 180
        logs = [out / 'logs' / f'lightgcn-none-seed{s}.log' for s in (1, 2)]
        while not all(p.is_file() and re.search(r'^epoch +3 ', p.read_text(), re.M)
                      for p in logs):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        workers = _children(proc.pid)
        assert workers  # the pool's worker processes
        proc.send_signal(sig)  # SIGINT as Ctrl-C gives it to the main process
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail('no exit 60 s after the signal; stacks:\n'
                        + _stacks_then_kill(proc, [proc.pid, *_children(proc.pid)]))
        assert code == 130
    except BaseException:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        raise
    stderr = [line for line in proc.stderr.read().strip().splitlines()
              if line.strip() and not line.startswith('Loading weights')]  # encoder's bar
    assert len(stderr) == 1 and stderr[0].startswith('error: interrupted'), stderr
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
    assert not list(out.rglob('*.tmp'))
    assert not (out / 'compare.md').exists() and not (out / 'compare.json').exists()
    for seed in (1, 2):  # the two running trainings: resumable, not finished
        run = out / 'runs' / f'lightgcn-none-seed{seed}'
        assert (run / RunFolder.LAST).is_file() and not (run / RunFolder.RESULTS).exists()
        assert (out / 'logs' / f'lightgcn-none-seed{seed}.log').read_text().endswith(
            'interrupted\n')
    assert not (out / 'runs' / 'lightgcn-uniform-seed1' / RunFolder.LAST).exists()
