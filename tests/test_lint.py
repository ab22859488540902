"""ruff (configured in pyproject.toml) finds nothing in the package, tests, benchmarks and
examples: the test command runs the linter."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_ruff_finds_nothing():
    if importlib.util.find_spec('ruff') is None:
        if os.environ.get('PYG_LLMINIT_LOCKED') == '1':
            pytest.fail('ruff is in constraints.txt but not installed: rerun bootstrap')
        pytest.skip('pip install ruff')
    proc = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', 'pyg_llminit',
                           'tests', 'benchmarks', 'examples'], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
