"""What a run prints on the terminal, and what ``pyg-llminit --quiet`` leaves out.

The library reports through a ``log(line)`` callable. Lines that only show progress (one per
epoch, a resume note) are :class:`Detail` strings: ``--quiet`` (``PYG_LLMINIT_QUIET=1``,
inherited by compare's worker processes) drops them and every progress bar from the
terminal, while a run's ``console.log`` keeps every line. The statistics, the results
tables, warnings and errors always print.
"""
import os
from typing import Optional


class Detail(str):
    r"""A console line of progress only (an epoch's loss and validation score), which
    ``--quiet`` hides from the terminal."""


def quiet() -> bool:
    r"""Whether ``PYG_LLMINIT_QUIET`` asks for the terminal to show results only."""
    return os.environ.get('PYG_LLMINIT_QUIET', '') not in ('', '0')


def progress_disabled(enabled: bool = True) -> Optional[bool]:
    r"""tqdm's ``disable`` for a progress bar: ``True`` where the caller or ``--quiet``
    turns it off, else ``None`` (shown on a terminal, hidden in a log file or a pipe)."""
    return True if not enabled or quiet() else None


def shown(line: str) -> bool:
    r"""Whether :obj:`line` reaches the terminal."""
    return not (isinstance(line, Detail) and quiet())


__all__ = ['Detail', 'quiet', 'progress_disabled', 'shown']
