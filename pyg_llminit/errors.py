"""The one exception type for user mistakes (bad input, unknown names, unusable paths).

The CLI turns a :class:`UserInputError` into a one-line ``error: ...`` message and exit
code 2; anything else is a bug and keeps its traceback.
"""


class UserInputError(ValueError):
    r"""Raised for a problem the user can fix: an unknown dataset name, a malformed file,
    an impossible dimension, a graph left empty by filtering, an unwritable folder."""
