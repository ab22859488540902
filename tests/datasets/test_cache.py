"""The processed-graph cache: never unpickles code, never half-written, rebuilt when bad."""
import pathlib

import pytest
import torch

from pyg_llminit.datasets import AmazonBeauty


class Planted:
    r"""Unpickling this creates a marker file: what a planted cache file could run."""
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture(scope='module')
def processed(tmp_path_factory):
    root = tmp_path_factory.mktemp('beauty')
    AmazonBeauty(str(root))
    return root


def test_files_planted_in_the_cache_never_run(processed, tmp_path):
    marker = tmp_path / 'ran'
    folder = processed / 'processed'
    for name in ('pre_transform.pt', 'pre_filter.pt'):  # PyG reads these unsafely
        torch.save(Planted(marker), folder / name)
    data = AmazonBeauty(str(processed))[0]
    assert data['user'].num_nodes == 22_363 and not marker.exists()
    torch.save(Planted(marker), folder / 'data.pt')  # the graph file itself
    with pytest.warns(UserWarning, match='unreadable processed graph'):
        data = AmazonBeauty(str(processed))[0]
    assert data['user'].num_nodes == 22_363 and not marker.exists()
    rebuilt = torch.load(folder / 'data.pt', weights_only=True)  # a safe file again
    assert rebuilt[2].__name__ == 'HeteroData'


def test_a_truncated_cache_is_rebuilt(processed):
    path = processed / 'processed' / 'data.pt'
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.warns(UserWarning, match='unreadable processed graph .* rebuilding it'):
        data = AmazonBeauty(str(processed))[0]
    assert data['item'].num_nodes == 12_101
    assert not list(path.parent.glob('.*.tmp'))  # written through a temporary file
