import importlib.metadata
import os
import sys

import numpy as np
import pytest
import torch

from pyg_llminit.datasets import AmazonBeauty, build_interaction_graph


def pytest_report_header(config):
    r"""The versions this run resolved (CI shows them first): the libraries whose releases
    change results or output, and whether constraints.txt governed the install."""
    names = ('torch', 'torch-geometric', 'torch-scatter', 'torch-sparse', 'transformers',
             'tokenizers', 'huggingface-hub', 'numpy', 'scipy', 'matplotlib', 'click')
    versions = []
    for name in names:
        try:
            versions.append(f'{name} {importlib.metadata.version(name)}')
        except importlib.metadata.PackageNotFoundError:
            versions.append(f'{name} absent')
    locked = ('constraints.txt' if os.environ.get('PYG_LLMINIT_LOCKED') == '1'
              else 'not checked against constraints.txt')
    return [f'versions ({locked}): ' + ', '.join(versions)]


@pytest.fixture(scope='session')
def beauty(tmp_path_factory):
    r"""The real embedded Amazon Beauty graph, processed once per test session."""
    return AmazonBeauty(str(tmp_path_factory.mktemp('beauty')))[0]


@pytest.fixture
def small_graph():
    r"""A random graph: 40 users with 4..12 interactions each over 30 items."""
    rng = np.random.default_rng(0)
    users, items, times = [], [], []
    for u in range(40):
        chosen = rng.choice(30, size=rng.integers(4, 13), replace=False)
        for i in chosen:
            users.append(f'u{u:02d}')
            items.append(f'i{i:02d}')
            times.append(int(rng.integers(0, 10_000)))
    titles = {f'i{i:02d}': f'item {i}' for i in range(30)}
    return build_interaction_graph(users, items, time=times, item_text={'title': titles})


#: The tiny text models' vocabulary: words of beauty-product titles, and those of
#: :func:`write_csv_graph`'s titles.
TINY_WORDS = tuple(('the a an of and with for by black red blue clear nail polish shampoo hair '
                    'scalp eyeliner brush cream face oil soap lotion ounce oz spf gel matte gloss '
                    'title number').split()) + tuple(str(i) for i in range(25))


def make_bert(folder, seed=0):
    r"""A tiny random BERT (2 layers, 32-d) with a WordPiece tokenizer over
    :data:`TINY_WORDS`, saved offline to :obj:`folder`."""
    from transformers import BertConfig, BertModel, BertTokenizer
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', *TINY_WORDS]
    (folder / 'vocab.txt').write_text('\n'.join(vocab) + '\n')
    BertTokenizer(str(folder / 'vocab.txt')).save_pretrained(folder)
    torch.manual_seed(seed)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=37)).save_pretrained(folder)
    return folder


@pytest.fixture(scope='session')
def make_tiny_bert():
    r""":func:`make_bert`: ``make_tiny_bert(folder, seed=0)``."""
    return make_bert


@pytest.fixture(scope='session')
def tiny_bert(tmp_path_factory):
    r"""The folder of a tiny random BERT (:func:`make_bert`, seed 0)."""
    return make_bert(tmp_path_factory.mktemp('bert'))


def write_csv_graph(folder):
    r"""A small CSV graph: 30 users with 5..9 interactions over 25 titled items."""
    rng = np.random.default_rng(1)
    folder.mkdir()
    lines = ['user,item,timestamp']
    for u in range(30):
        for t, i in enumerate(rng.choice(25, size=rng.integers(5, 10), replace=False)):
            lines.append(f'user{u},item{i},{t}')
    (folder / 'interactions.csv').write_text('\n'.join(lines) + '\n')
    (folder / 'items.csv').write_text(
        'item,title\n' + ''.join(f'item{i},Title number {i}\n' for i in range(25)))
    return folder


@pytest.fixture(scope='session')
def make_csv_graph():
    r""":func:`write_csv_graph`, for fixtures of a wider scope than :func:`csv_graph`'s."""
    return write_csv_graph


@pytest.fixture
def csv_graph(tmp_path):
    r"""The folder of :func:`write_csv_graph`'s small CSV graph."""
    return write_csv_graph(tmp_path / 'graph')


@pytest.fixture(scope='session')
def finished_run(tmp_path_factory):
    r"""``(run folder, graph folder, cache root)`` of a 2-epoch NGCF ``train`` run on a
    small CSV graph."""
    tmp = tmp_path_factory.mktemp('finished_run')
    graph = write_csv_graph(tmp / 'shop')
    out = tmp / 'run'
    from pyg_llminit.cli.main import main
    main(['train', '--graph', str(graph), '--model', 'ngcf', '--dim', '8', '--epochs', '2',
          '--batch-size', '16', '--device', 'cpu', '--root', str(tmp / 'cache'),
          '--out', str(out)])
    return out, graph, tmp / 'cache'


@pytest.fixture
def snapshot():
    r"""``snapshot(folder)``: every file under :obj:`folder` with a hash of its bytes, but
    the lock files that guard run folders (``.<run>.lock``, see
    :func:`pyg_llminit.io.exclusive`): compare two to see that nothing changed."""
    import hashlib

    def take(folder):
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob('*')) if p.is_file()
                and not (p.name.startswith('.') and p.name.endswith('.lock'))}
    return take


@pytest.fixture
def cli_error(capsys):
    r"""``check(argv, message, code=2)``: the CLI run on :obj:`argv` exits with :obj:`code`
    (2 a usage error, 3 a data error, 5 an I/O failure) and prints exactly one line to
    stderr, starting with :obj:`message`."""
    def check(argv, message, code=2):
        from pyg_llminit.cli.main import main
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err.strip()
        assert exc.value.code == code, err
        assert err.startswith(message) and '\n' not in err
    return check


@pytest.fixture(scope='session')
def load_benchmark():
    r"""``load(name)``: ``benchmarks/<name>.py`` (scripts, not a package) as a module."""
    import importlib.util
    from pathlib import Path

    def load(name):
        path = Path(__file__).parents[1] / 'benchmarks' / f'{name}.py'
        if str(path.parent) not in sys.path:  # as `python benchmarks/<name>.py` runs it,
            sys.path.insert(0, str(path.parent))  # it may import the scripts beside it
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
