import logging

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from pyg_llminit.datasets import build_interaction_graph
from pyg_llminit.errors import UserInputError
from pyg_llminit.text import EmbeddingCache, TextEncoder, cache_key, encode_items

WORDS = 'clear nail polish shampoo hair eyeliner brush cream face oil soap black red'.split()


@pytest.fixture(scope='module')
def bert_dir(tiny_bert):
    return tiny_bert


class CountingEncoder(TextEncoder):
    r"""The real encoder, counting what it encodes; raises on call number ``fail_on``."""
    def __init__(self, *args, fail_on=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls, self.fail_on = [], fail_on

    def encode(self, texts, progress=True):
        self.calls.append(list(texts))
        if len(self.calls) == self.fail_on:
            raise KeyboardInterrupt('simulated interruption')
        return super().encode(texts, progress)


def graph(num_items=10, change=None):
    titles = {f'i{i:02d}': ' '.join(WORDS[(i + j) % len(WORDS)] for j in range(1 + i % 4))
              for i in range(num_items)}
    if change is not None:
        titles['i00'] = change
    brands = {f'i{i:02d}': WORDS[i % 3] for i in range(num_items)}
    items = sorted(titles)
    return build_interaction_graph(['u0'] * num_items + ['u1'], items + ['i00'],
                                   item_text={'title': titles, 'brand': brands})


def files(root):
    r"""The cache's files, without its lock files (``.locks/``, kept by design: removing
    a lock file another process waits on would let a third one take a second lock)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob('*')
                  if not p.relative_to(root).as_posix().startswith('.locks'))


def assert_no_temp_files(root):
    assert not [f for f in files(root) if f.endswith('.tmp') or '/.' in '/' + f], files(root)


def test_hit_skips_encoding(bert_dir, tmp_path):
    enc = CountingEncoder(str(bert_dir))
    data = graph()
    first = encode_items(data, enc, cache_dir=tmp_path, progress=False)
    assert first.shape == (10, 32) and len(enc.calls) == 1
    second = encode_items(data, enc, cache_dir=tmp_path, progress=False)
    assert len(enc.calls) == 1 and torch.equal(first, second)
    # A fresh encoder object with the same identity hits too, without loading weights.
    fresh = CountingEncoder(str(bert_dir), batch_size=3)
    assert torch.equal(encode_items(data, fresh, cache_dir=tmp_path, progress=False), first)
    assert fresh.calls == [] and fresh._model is None
    (path,) = tmp_path.glob('*.safetensors')
    with safe_open(str(path), framework='pt') as f:
        meta = f.metadata()
    assert path.name == meta['key'] + '.safetensors' and meta['shape'] == '10,32'
    assert torch.allclose(first, enc.encode(data['item'].title), atol=1e-5)
    assert_no_temp_files(tmp_path)


def test_miss_on_texts_recipe_and_encoder(bert_dir, tmp_path):
    enc = CountingEncoder(str(bert_dir))
    base = encode_items(graph(), enc, cache_dir=tmp_path, progress=False)
    encode_items(graph(change='red soap'), enc, cache_dir=tmp_path, progress=False)
    encode_items(graph(), enc, fields=('title', 'brand'), cache_dir=tmp_path, progress=False)
    encode_items(graph(), enc, template='{title} by {brand}', cache_dir=tmp_path,
                 progress=False)
    assert len(enc.calls) == 4
    other = CountingEncoder(str(bert_dir), pooling='cls')
    assert not torch.allclose(encode_items(graph(), other, cache_dir=tmp_path,
                                           progress=False), base)
    assert len(other.calls) == 1 and len(list(tmp_path.glob('*.safetensors'))) == 5


def test_default_dir_and_encoder_by_path(bert_dir, tmp_path, monkeypatch):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path))
    emb = encode_items(graph(), str(bert_dir), progress=False)
    assert emb.shape == (10, 32)
    assert len(list((tmp_path / 'embeddings').glob('*.safetensors'))) == 1
    assert repr(EmbeddingCache()) == f"EmbeddingCache(root='{tmp_path / 'embeddings'}')"


def corrupt(path, how):
    if how == 'truncated':
        path.write_bytes(path.read_bytes()[:100])
    elif how == 'garbage':
        path.write_bytes(b'not a safetensors file' * 10)
    elif how == 'shape':
        save_file({'embeddings': torch.zeros(9, 32)}, str(path),
                  metadata={'format': 'pyg-llminit-embeddings/1', 'key': path.stem})
    elif how == 'nan':
        save_file({'embeddings': torch.full((10, 32), float('nan'))}, str(path),
                  metadata={'format': 'pyg-llminit-embeddings/1', 'key': path.stem})
    elif how == 'key':
        with safe_open(str(path), framework='pt') as f:
            tensor = f.get_tensor('embeddings')
        save_file({'embeddings': tensor}, str(path),
                  metadata={'format': 'pyg-llminit-embeddings/1', 'key': '0' * 64})


@pytest.mark.parametrize('how', ['truncated', 'garbage', 'shape', 'nan', 'key'])
def test_corrupt_file_is_rebuilt(bert_dir, tmp_path, caplog, how):
    enc = CountingEncoder(str(bert_dir))
    good = encode_items(graph(), enc, cache_dir=tmp_path, progress=False)
    (path,) = tmp_path.glob('*.safetensors')
    corrupt(path, how)
    with caplog.at_level(logging.WARNING, logger='pyg_llminit.text.cache'):
        again = encode_items(graph(), enc, cache_dir=tmp_path, progress=False)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and path.name in warnings[0].getMessage()
    assert len(enc.calls) == 2 and torch.allclose(again, good, atol=1e-6)
    assert torch.isfinite(again).all()
    encode_items(graph(), enc, cache_dir=tmp_path, progress=False)  # the rebuilt file hits
    assert len(enc.calls) == 2
    assert_no_temp_files(tmp_path)


def test_interrupted_encoding_resumes_at_the_missing_chunk(bert_dir, tmp_path):
    data = graph(num_items=10)
    titles = data['item'].title
    whole = CountingEncoder(str(bert_dir))
    reference = encode_items(data, whole, cache_dir=tmp_path / 'ref', progress=False)
    enc = CountingEncoder(str(bert_dir), fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        encode_items(data, enc, cache_dir=tmp_path / 'c', chunk_size=4, progress=False)
    assert enc.calls == [titles[0:4], titles[4:8]]
    assert_no_temp_files(tmp_path / 'c')
    (parts,) = (tmp_path / 'c').glob('*.parts')
    assert [p.name for p in parts.iterdir()] == ['part-000000000-000000004.safetensors']
    enc.calls, enc.fail_on = [], None
    got = encode_items(data, enc, cache_dir=tmp_path / 'c', chunk_size=4, progress=False)
    assert enc.calls == [titles[4:8], titles[8:10]]  # chunk 1 was not encoded again
    assert torch.allclose(got, reference, atol=1e-5)
    assert files(tmp_path / 'c') == [p.name for p in (tmp_path / 'c').glob('*.safetensors')]
    assert_no_temp_files(tmp_path / 'c')


def test_corrupt_part_is_rebuilt(bert_dir, tmp_path, caplog):
    data = graph(num_items=10)
    enc = CountingEncoder(str(bert_dir), fail_on=3)
    with pytest.raises(KeyboardInterrupt):
        encode_items(data, enc, cache_dir=tmp_path, chunk_size=4, progress=False)
    (parts,) = tmp_path.glob('*.parts')
    first = sorted(parts.iterdir())[0]
    first.write_bytes(b'\0' * 8)
    enc.calls, enc.fail_on = [], None
    with caplog.at_level(logging.WARNING, logger='pyg_llminit.text.cache'):
        encode_items(data, enc, cache_dir=tmp_path, chunk_size=4, progress=False)
    titles = data['item'].title
    assert enc.calls == [titles[0:4], titles[8:10]]
    assert any(first.name in r.getMessage() for r in caplog.records)
    assert not parts.exists()


def test_key_and_bad_arguments(bert_dir, tmp_path):
    ident = TextEncoder(str(bert_dir)).identity
    k = cache_key(ident, 'r', ['a', 'b'])
    assert k == cache_key(dict(ident), 'r', ['a', 'b']) and len(k) == 64
    assert k != cache_key(ident, 'r', ['ab', '']) and k != cache_key(ident, 'r', ['b', 'a'])
    with pytest.raises(UserInputError, match='chunk_size'):
        encode_items(graph(), TextEncoder(str(bert_dir)), cache_dir=tmp_path, chunk_size=0)


def test_failed_write_leaves_nothing(bert_dir, tmp_path, monkeypatch):
    import pyg_llminit.text.cache as cache

    def half_write(tensors, filename, metadata=None):
        with open(filename, 'wb') as f:
            f.write(b'half a file')
        raise RuntimeError('disk gone')

    monkeypatch.setattr(cache, 'save_file', half_write)
    with pytest.raises(RuntimeError, match='disk gone'):
        encode_items(graph(), TextEncoder(str(bert_dir)), cache_dir=tmp_path, progress=False)
    assert files(tmp_path) == []


def test_save_and_load_embedding_round_trip_and_bad_files(tmp_path):
    from pyg_llminit.errors import UserInputError
    from pyg_llminit.text import load_embedding, save_embedding
    emb = torch.randn(5, 3)
    save_embedding(tmp_path / 'e.safetensors', emb)
    assert torch.equal(load_embedding(tmp_path / 'e.safetensors', num_items=5), emb)
    with pytest.raises(UserInputError, match='has 5 rows, but the graph has 4 items'):
        load_embedding(tmp_path / 'e.safetensors', num_items=4)
    with pytest.raises(UserInputError, match='does not exist'):
        load_embedding(tmp_path / 'missing.safetensors')
    (tmp_path / 'junk.safetensors').write_bytes(b'not a tensor file')
    with pytest.raises(UserInputError, match='cannot read embedding file'):
        load_embedding(tmp_path / 'junk.safetensors')
    bad = emb.clone()
    bad[1, 1] = float('nan')
    save_embedding(tmp_path / 'nan.safetensors', bad)
    with pytest.raises(UserInputError, match='NaN or inf'):
        load_embedding(tmp_path / 'nan.safetensors')
