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


LOCK_SCRIPT = '''
import sys, time
from pathlib import Path
from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.text import cache

root, embeddings, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
process, encode = AmazonBeauty.process, cache.EmbeddingCache._encode
def counted_process(self):
    print('PROCESSED', flush=True)
    return process(self)
def counted_encode(encoder, texts, progress):
    print('ENCODED', flush=True)
    return encode(encoder, texts, progress)
AmazonBeauty.process = counted_process
cache.EmbeddingCache._encode = staticmethod(counted_encode)
while not go.exists():  # both processes start their work at the same moment
    time.sleep(0.01)
data = AmazonBeauty(root)[0]
emb = cache.EmbeddingCache(embeddings).get_or_encode(
    data['item'].title[:300], cache.resolve_encoder('minilm'), progress=False)
print('ROWS', emb.shape[0], flush=True)
'''


@pytest.mark.slow
def test_two_processes_preparing_one_graph_and_embedding_take_turns(tmp_path):
    r"""Two real processes load the same uncached graph and ask for the same uncached
    embedding entry at once: the file locks let one build each while the other waits and
    reads it (without them both would build, and race on the files)."""
    import subprocess
    import sys
    go = tmp_path / 'go'
    args = [sys.executable, '-c', LOCK_SCRIPT, str(tmp_path / 'root'),
            str(tmp_path / 'embeddings'), str(go)]
    workers = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    go.touch()
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in outputs]
    lines = [line for out, _ in outputs for line in out.split('\n')]
    assert lines.count('PROCESSED') == 1 and lines.count('ENCODED') == 1
    assert lines.count('ROWS 300') == 2
