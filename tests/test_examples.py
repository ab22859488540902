"""The scripts in examples/ run end to end (tiny settings) and print their final metric.

Each example runs as a subprocess with ``PYG_LLMINIT_HOME`` in a temporary folder, so the
processed graphs and embedding caches go there. The Beauty examples use
``--embedding random`` (their documented test shortcut: no language model) and ``--users``;
the CSV example runs the real MiniLM encoder on its small demo data.
"""
import csv
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Each example starts a Python process and loads PyG (and MiniLM): seconds each.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / 'examples'
FINAL = re.compile(r'^val recall@10 (\S+) ndcg@10 (\S+)$')


@pytest.fixture(scope='module')
def home(tmp_path_factory):
    r"""One ``PYG_LLMINIT_HOME`` for the module, so Beauty is processed once."""
    return tmp_path_factory.mktemp('pyg_llminit_home')


def run_example(name, *args, home):
    env = dict(os.environ, PYG_LLMINIT_HOME=str(home), PYTHONUNBUFFERED='1')
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f'{name} failed:\n{proc.stdout}\n{proc.stderr}'
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f'{name} printed nothing'
    return lines


def check_final(lines):
    match = FINAL.match(lines[-1])
    assert match, f'unexpected final line: {lines[-1]!r}'
    for value in match.groups():
        assert math.isfinite(float(value)) and 0 <= float(value) <= 1


def test_llminit_lightgcn(home):
    lines = run_example('llminit_lightgcn.py', '--users', 300, '--epochs', 1, '--dim', 16,
                        '--embedding', 'random', home=home)
    assert any(line.startswith('LLMInit: E (12101, 384)') for line in lines)
    assert any(line.startswith('epoch 001 | loss') for line in lines)
    check_final(lines)


def test_llminit_hetero_sage_beauty(home):
    lines = run_example('llminit_hetero_sage.py', '--users', 300, '--epochs', 1, '--dim', 16,
                        '--embedding', 'random', home=home)
    assert any(line.startswith('epoch 001 | loss') for line in lines)
    check_final(lines)


def test_llminit_hetero_sage_local_graph(tmp_path, home):
    folder = tmp_path / 'shop'
    folder.mkdir()
    with open(folder / 'items.csv', 'w', newline='') as f:
        csv.writer(f).writerows([('item_id', 'title')] +
                                [(f'i{i}', f'product {i}') for i in range(15)])
    with open(folder / 'interactions.csv', 'w', newline='') as f:
        csv.writer(f).writerows([('user_id', 'item_id', 'timestamp')] +
                                [(f'u{u}', f'i{(u + 2 * k) % 15}', 10 * k)
                                 for u in range(12) for k in range(5)])
    lines = run_example('llminit_hetero_sage.py', '--graph', folder, '--epochs', 2, '--dim', 8,
                        '--strategy', 'uniform', '--embedding', 'random', home=home)
    assert any('12 users, 15 items' in line for line in lines)
    check_final(lines)


def test_llminit_from_csv_demo(tmp_path, home):
    demo, cache = tmp_path / 'demo', tmp_path / 'emb'
    lines = run_example('llminit_from_csv.py', '--demo', demo, '--epochs', 5,
                        '--cache-dir', cache, home=home)
    assert (demo / 'interactions.csv').is_file() and (demo / 'items.csv').is_file()
    assert any(cache.glob('*.safetensors')) or any(cache.glob('*.pt'))  # real MiniLM, cached
    recall = [line for line in lines if line.startswith('val recall@10 ')]
    assert recall and math.isfinite(float(recall[0].split()[-1]))
    assert 0 <= float(recall[0].split()[-1]) <= 1
    prefix = 'top-5 for user user00: '
    assert lines[-1].startswith(prefix), lines[-1]
    with open(demo / 'items.csv', newline='') as f:
        titles = {row['title'] for row in csv.DictReader(f)}
    top = lines[-1][len(prefix):].split('; ')
    assert len(top) == 5 and set(top) <= titles
