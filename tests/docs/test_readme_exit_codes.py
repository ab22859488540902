"""The README's exit-code table is the one the command line uses."""
import re
from pathlib import Path

from pyg_llminit.errors import EXIT_CODES

README = Path(__file__).parents[2] / 'README.md'


def test_the_readme_lists_every_exit_code_as_the_cli_does():
    rows = re.findall(r'^\| (\d+) \| (.+) \|$', README.read_text(), flags=re.M)
    assert {int(code): meaning for code, meaning in rows} == EXIT_CODES
