"""The one exception type for user mistakes (bad input, unknown names, unusable paths), and
interruptions that unwind like Ctrl-C.

The library names the parameter at fault in its own terms (``embedding_dim must be at least
1``); the command line shows the same error in its flag names (``--dim must be at least
1``), one ``error: ...`` line and exit code 2. Anything else is a bug and keeps its
traceback.
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


def invalid(param: str, problem: str) -> UserInputError:
    r"""``UserInputError(f'{param} {problem}', param)``: a bad value of :obj:`param`."""
    return UserInputError(f'{param} {problem}', param=param)


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


__all__ = ['UserInputError', 'invalid', 'first_line', 'interrupt_on_sigterm']
