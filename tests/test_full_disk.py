"""A disk that fills up while a run, a text cache or a graph cache is written: a real
size-limited file system (tmpfs), so that torch and safetensors fail as they do on a full
disk. One ``error:`` line naming the file, exit 5 (an I/O failure), and what was there
before intact."""
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
import torch

from pyg_llminit.cli.main import main
from pyg_llminit.experiment import runs

pytestmark = pytest.mark.slow


@pytest.fixture
def disk(tmp_path):
    r"""A 32 MiB file system of its own (tmpfs; skipped where mounting is not allowed)."""
    folder = tmp_path / 'disk'
    folder.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip('cannot mount a small file system here (needs root and CAP_SYS_ADMIN)')
    yield folder
    subprocess.run(['umount', '-l', str(folder)], check=False)


def fill(folder: Path) -> None:
    r"""Writes into :obj:`folder` until its file system is full."""
    with open(folder / 'filler', 'wb') as f:
        try:
            while True:
                f.write(b'\0' * 65536)
                f.flush()
        except OSError:
            pass
    try:  # the last partial blocks too
        with open(folder / 'filler2', 'wb') as f:
            while True:
                f.write(b'\0' * 512)
                f.flush()
    except OSError:
        pass


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 5 and '\n' not in err and 'Traceback' not in err, err
    return err


@pytest.mark.parametrize('step', ['save_best', 'save_last'])
def test_a_checkpoint_write_on_a_full_disk(disk, csv_graph, tmp_path, monkeypatch, capsys,
                                           step):
    r"""The disk fills after epoch 1: epoch 2's checkpoint cannot be written; epoch 1's
    stays complete and the run resumes from it once there is space."""
    calls = []
    original = getattr(runs.RunFolder, step)

    def write(self, *args):
        calls.append(1)
        if len(calls) == 2:
            fill(disk)
        return original(self, *args)
    monkeypatch.setattr(runs.RunFolder, step, write)
    out = disk / 'run'
    name = {'save_best': 'best.pt', 'save_last': 'last.pt'}[step]
    err = _error(capsys, ['train', '--graph', str(csv_graph), '--init', 'none', '--dim', '8',
                          '--epochs', '4', '--warmup', '0', '--patience', '10', '--lr', '0.05',
                          '--batch-size', '16', '--device', 'cpu', '--out', str(out),
                          '--root', str(tmp_path / 'cache')])
    assert err.startswith(f'error: cannot write {out / name}: No space left on device'), err
    assert sorted(p.name for p in out.iterdir()) == [
        'best.pt', 'config.json', 'console.log', 'history.json', 'last.pt', 'provenance.json']
    last = torch.load(out / 'last.pt', weights_only=True)
    assert last['epoch'] == 1  # epoch 1's state, complete
    torch.load(out / 'best.pt', weights_only=True)
    for filler in disk.glob('filler*'):
        filler.unlink()
    monkeypatch.undo()
    main(['train', '--resume', str(out), '--root', str(tmp_path / 'cache')])
    assert (out / 'results.json').is_file()


def test_the_text_embedding_cache_on_a_full_disk(disk, csv_graph, tmp_path, monkeypatch,
                                                 capsys):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(disk / 'home'))
    (disk / 'home').mkdir()
    fill(disk)
    err = _error(capsys, ['train', '--graph', str(csv_graph), '--init', 'variance', '--dim',
                          '8', '--epochs', '1', '--device', 'cpu', '--out',
                          str(tmp_path / 'run'), '--root', str(tmp_path / 'cache')])
    assert err.startswith(f'error: cannot write the embedding cache {disk / "home"}'), err
    assert err.endswith('.safetensors: No space left on device'), err
    left = [p for p in (disk / 'home').rglob('*') if p.is_file()]
    assert not [p for p in left if p.name.endswith('.tmp')], left  # nothing half-written
    assert not (tmp_path / 'run').exists()


def test_the_processed_graph_cache_on_a_full_disk(disk, capsys):
    root = disk / 'cache'
    main(['stats', '--graph', 'amazon', '--root', str(root)])
    data = root / 'processed' / 'data.pt'
    before = digest(data)
    fill(disk)
    err = _error(capsys, ['stats', '--graph', 'amazon', '--root', str(root), '--force-reload'])
    assert err.startswith(f'error: cannot write {data}: No space left on device'), err
    assert digest(data) == before  # the earlier cache, byte for byte
    assert sorted(os.listdir(root / 'processed')) == ['data.pt']
