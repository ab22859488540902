"""The one exception type for user mistakes (bad input, unknown names, unusable paths), and
interruptions that unwind like Ctrl-C.

The library names the parameter at fault in its own terms (``embedding_dim must be at least
1``); the command line shows the same error in its flag names (``--dim must be at least
1``), one ``error: ...`` line and the exit code of its kind (:data:`EXIT_CODES`), so that
a sweep driver can tell a typo from a malformed file, a diverged run or a full disk.
Anything else is a bug and keeps its traceback (exit code 1).
"""
import signal
from typing import Any, Callable, Optional


class UserInputError(ValueError):
    r"""Raised for a problem the user can fix: an unknown dataset name, a malformed file,
    an impossible dimension, a graph left empty by filtering, an unwritable folder.

    Args:
        message (str): What is wrong, in one line.
        param (str, optional): The parameter at fault; the message then starts with its
            name, which the command line replaces by the flag that sets it.
    """
    #: The command line's exit code for this kind of error.
    exit_code = 2

    def __init__(self, message: str, param: Optional[str] = None) -> None:
        super().__init__(message)
        self.param = param

    def in_terms_of(self, flag: Callable[[str], str]) -> str:
        r"""The message with the parameter's name replaced by ``flag(param)``, e.g. the
        command-line flag that sets it."""
        message = str(self)
        if self.param is None or not message.startswith(self.param):
            return message
        return flag(self.param) + message[len(self.param):]


class DataError(UserInputError):
    r"""The data cannot be used as it is: a malformed or truncated file, a graph left empty
    by filtering, an embedding that does not match the graph, a run folder whose graph has
    changed. Exit code 3."""
    exit_code = 3


class TrainingDiverged(UserInputError):
    r"""Training produced a non-finite loss (a learning rate too high, an initial scale too
    large). Exit code 4."""
    exit_code = 4


class StorageError(UserInputError):
    r"""A folder that cannot be written (permissions, a read-only file system, a full disk)
    or that another pyg-llminit process is writing. Exit code 5."""
    exit_code = 5


#: ``pyg-llminit``'s exit codes, as ``--help`` and the README list them.
EXIT_CODES = {
    0: 'done',
    1: 'a bug (with its traceback) or a distributed peer that failed',
    UserInputError.exit_code: 'a usage error: an unknown option or value, a missing path',
    DataError.exit_code: 'a data error: a malformed file, an empty graph, a mismatched '
                         'embedding or run folder',
    TrainingDiverged.exit_code: 'training diverged (non-finite loss)',
    StorageError.exit_code: 'an I/O failure: a full disk, no permission, or a folder that '
                            'another process writes',
    130: 'interrupted (Ctrl-C, SIGTERM); every file written is complete',
}


def invalid(param: str, problem: str, kind: type = UserInputError) -> UserInputError:
    r"""``kind(f'{param} {problem}', param)``: a bad value of :obj:`param` (by default a
    usage error; :obj:`kind` another subclass of :class:`UserInputError`)."""
    return kind(f'{param} {problem}', param=param)


def require(module: str, extra: str, who: str, param: Optional[str] = None) -> None:
    r"""Refuses to go on without an optional package: ``UserInputError`` naming
    :obj:`who` needs it and the pip command of the package's extra that installs it."""
    import importlib.util
    if importlib.util.find_spec(module) is None:
        raise UserInputError(f'{who} needs the package {module}: pip install '
                             f'"pyg-llminit[{extra}]"', param=param)


def first_line(error: BaseException, lines: int = 1, width: int = 200,
               typed: bool = False) -> str:
    r"""The first :obj:`lines` lines of :obj:`error`'s message (its type's name if it has
    none), joined and cut at :obj:`width` characters: a library's multi-line message
    (torch's advice on ``weights_only``, a state dict's list of mismatches) as part of one
    ``error:`` line; :obj:`typed` puts the error's type first (``OSError: ...``)."""
    text = ' '.join(line.strip() for line in str(error).strip().splitlines()[:lines])
    name = type(error).__name__
    text = (f'{name}: {text}' if typed else text) if text else name
    return text if len(text) <= width else text[:width - 3] + '...'


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> Any:
    r"""Makes SIGTERM (``kill``, torchrun stopping the ranks, a comparison stopping its
    workers) unwind like Ctrl-C, so that :func:`~pyg_llminit.io.atomic_path` removes its
    temporary file; returns the previous handler. Main thread only."""
    return signal.signal(signal.SIGTERM, _raise_interrupt)


__all__ = ['UserInputError', 'DataError', 'TrainingDiverged', 'StorageError', 'EXIT_CODES',
           'invalid', 'require', 'first_line', 'interrupt_on_sigterm']
