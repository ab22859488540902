"""The ``pyg-llminit`` command line; the only part of the package that imports click."""
from .main import cli, main

__all__ = ['cli', 'main']
