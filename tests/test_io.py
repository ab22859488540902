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
