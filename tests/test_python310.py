"""The README promises Python 3.10+: every module must at least compile there (no 3.11-only
syntax). A full 3.10 run needs a torch wheel for 3.10, which this machine does not hold."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def python310():
    r"""A working Python 3.10 interpreter (on PATH, or one of pyenv's), or ``None``."""
    candidates = [shutil.which('python3.10'),
                  *map(str, Path.home().glob('.pyenv/versions/3.10*/bin/python3.10'))]
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run([candidate, '--version'], capture_output=True, text=True,
                                 timeout=30)
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.startswith('Python 3.10'):
            return candidate
    return None


PYTHON310 = python310()


@pytest.mark.skipif(PYTHON310 is None, reason='needs a Python 3.10')
def test_every_module_compiles_on_python_310(tmp_path):
    sources = [str(p) for folder in ('pyg_llminit', 'tests', 'benchmarks', 'examples')
               for p in (ROOT / folder).rglob('*.py')]
    code = ('import sys, py_compile\n'
            'for path in sys.argv[1:]:\n'
            '    py_compile.compile(path, cfile=sys.argv[0] + "x", doraise=True)\n'
            'print(len(sys.argv) - 1, sys.version_info[:2])\n')
    script = tmp_path / 'check.py'
    script.write_text(code.replace('sys.argv[0] + "x"', repr(str(tmp_path / 'out.pyc'))))
    result = subprocess.run([PYTHON310, str(script), *sources], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(sources)), '(3,', '10)']  # all, on 3.10
