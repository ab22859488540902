import os

import pytest
import torch

from pyg_llminit.errors import UserInputError
from pyg_llminit.io import atomic_path, load_torch, read_json, save_torch, write_json


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / 'out.json'
    target.write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('half')
            raise RuntimeError('crash mid-write')
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.json']  # no temporary left behind
    write_json(target, {'a': 1})
    assert target.read_text().strip().startswith('{')
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


class Evil:
    pass


def test_torch_roundtrip_is_weights_only(tmp_path):
    save_torch(tmp_path / 'w.pt', {'w': torch.arange(3)})
    assert torch.equal(load_torch(tmp_path / 'w.pt')['w'], torch.arange(3))
    torch.save({'x': Evil()}, tmp_path / 'evil.pt')  # an arbitrary pickled object
    with pytest.raises(Exception, match='[Ww]eights only'):
        load_torch(tmp_path / 'evil.pt')


def test_read_json_names_the_file_of_a_malformed_value(tmp_path):
    path = tmp_path / 'spec.json'
    write_json(path, {'settings': {'lr': 0.001}})
    assert read_json(path) == {'settings': {'lr': 0.001}}
    assert read_json(path, 'settings') == {'lr': 0.001}
    with pytest.raises(UserInputError, match=f"{path}: malformed \\('data'\\)"):
        read_json(path, 'data')
    path.write_text('[1, 2]')  # not an object: no key to read
    with pytest.raises(UserInputError, match=f'{path}: malformed'):
        read_json(path, 'settings')
    path.write_text('{"settings": ')
    with pytest.raises(UserInputError, match=f'{path}: malformed \\(Expecting value'):
        read_json(path)


_HOLD = r'''
import sys, time
from pyg_llminit.io import exclusive
with exclusive(sys.argv[1]):
    print('held', flush=True)
    time.sleep(600)
'''


def _holder(target):
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, '-c', _HOLD, str(target)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'held'
    return proc


def test_exclusive_refuses_a_second_process_naming_the_holder_and_not_a_dead_one(tmp_path):
    from pyg_llminit.io import exclusive, lock_file_of
    target = tmp_path / 'run'
    holder = _holder(target)
    try:
        with pytest.raises(UserInputError, match=f'^out {target} is being written by another '
                           f'pyg-llminit process \\(pid {holder.pid}\\)'):
            with exclusive(target):
                pass
    finally:
        holder.kill()  # SIGKILL: no clean-up; the kernel drops the lock with the process
        holder.wait()
    assert lock_file_of(target).is_file()  # the stale lock file stays and does not block
    with exclusive(target):
        assert lock_file_of(target).read_text().split() == [str(os.getpid())]
    assert not target.exists()  # the lock lives beside the folder, never in it


@pytest.mark.parametrize('atomic', [True, False])
def test_swap_folders_exchanges_contents(tmp_path, monkeypatch, atomic):
    import ctypes

    from pyg_llminit.io import swap_folders
    if not atomic:  # a C library without renameat2: two renames through a hidden name
        monkeypatch.setattr(ctypes, 'CDLL', lambda *a, **k: (_ for _ in ()).throw(OSError()))
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    (tmp_path / 'a' / 'f').write_text('new')
    (tmp_path / 'b' / 'f').write_text('old')
    swap_folders(tmp_path / 'a', tmp_path / 'b')
    assert (tmp_path / 'b' / 'f').read_text() == 'new'
    assert (tmp_path / 'a' / 'f').read_text() == 'old'
    assert sorted(os.listdir(tmp_path)) == ['a', 'b']


def test_recover_swap_puts_back_a_folder_left_between_two_renames(tmp_path):
    from pyg_llminit.io import recover_swap
    (tmp_path / '.run.swap').mkdir()
    (tmp_path / '.run.swap' / 'best.pt').write_text('weights')
    recover_swap(tmp_path / 'run')
    assert (tmp_path / 'run' / 'best.pt').read_text() == 'weights'
    recover_swap(tmp_path / 'run')  # nothing to do: a no-op
    assert sorted(os.listdir(tmp_path)) == ['run']
