"""Atomic file writes: a reader never sees a half-written cache, checkpoint or result."""
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import torch

from .errors import UserInputError, invalid

PathLike = Union[str, os.PathLike]


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    r"""Yields a temporary path beside :obj:`path`; on success it is renamed onto
    :obj:`path` (an atomic ``os.replace``), on failure it is removed.

    Example:
        >>> with atomic_path('results.json') as tmp:
        ...     tmp.write_text('{}')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    tmp_path = Path(tmp)
    try:  # from here on an interruption (Ctrl-C) removes the temporary file
        os.close(fd)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def file_lock(path: PathLike) -> Iterator[None]:
    r"""Holds an exclusive advisory lock on :obj:`path` (created if missing) while the block
    runs, so two processes preparing the same cache entry (a processed graph, an embedding)
    take turns: the second finds the first's finished files instead of writing them again.
    Where the lock file cannot be created (a read-only cache), the block runs unlocked.

    Example:
        >>> with file_lock(cache / '.lock'):
        ...     build_once(cache)
    """
    import fcntl
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, 'a')
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the handle closes
        yield


def writable_file(path: Optional[PathLike], param: str = 'out',
                  protected: Optional[PathLike] = None) -> Optional[Path]:
    r""":obj:`path` as a :class:`Path` (``None`` stays ``None``) after checking that it is
    not a folder, that its folder exists and is writable, and that it does not lie in the
    :obj:`protected` folder (a run folder, whose files only training writes), so a long job
    fails before it starts, not at the end; :obj:`param` names the parameter in the error."""
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise invalid(param, f'{path} is a folder: give a file name')
    if protected is not None:
        check_outside_run(target, protected, param)
    check_writable_folder(target.absolute().parent, param, path, create=False)
    return target


def check_outside_run(path: PathLike, run: PathLike, param: str = 'out') -> None:
    r"""Raises a :class:`~pyg_llminit.errors.UserInputError` about :obj:`param` if
    :obj:`path` is the run folder :obj:`run` or lies in it: only training writes there."""
    run_path, target = Path(run).resolve(), Path(path).resolve()
    if target == run_path or run_path in target.parents:
        raise invalid(param, f'{path} lies in the run folder {run}, whose files only '
                      'train writes: write it elsewhere')


def check_writable_folder(folder: PathLike, param: str, shown: Any = None,
                          create: bool = True) -> None:
    r"""Raises a :class:`~pyg_llminit.errors.UserInputError` about :obj:`param` unless
    :obj:`folder` is a writable folder or, with :obj:`create`, can be created in one (its
    nearest existing ancestor); :obj:`shown` is the value the user gave."""
    folder = Path(folder).absolute()
    existing = next(p for p in [folder, *folder.parents] if p.exists())
    if not create and existing != folder:
        problem = f'{folder} does not exist'
    elif not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        problem = f'{existing} is not a writable folder'
    else:
        return
    raise invalid(param, f'{folder if shown is None else shown}: cannot write there '
                  f'({problem})')


def pyg_llminit_home() -> Path:
    r"""The package's cache folder: ``$PYG_LLMINIT_HOME``, by default
    ``~/.cache/pyg-llminit`` (processed graphs, item embeddings, text models)."""
    return Path(os.environ.get('PYG_LLMINIT_HOME',
                               Path.home() / '.cache' / 'pyg-llminit')).expanduser()


def write_json(path: PathLike, obj: Any) -> None:
    r"""Writes :obj:`obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + '\n')


def read_json(path: PathLike, key: Optional[str] = None) -> Any:
    r"""The JSON value in :obj:`path` (its entry :obj:`key`, given one); a file that is not
    JSON, or has no such entry, is a :class:`~pyg_llminit.errors.UserInputError` naming it."""
    try:
        value = json.loads(Path(path).read_text())
        return value if key is None else value[key]
    except (ValueError, KeyError, TypeError) as e:
        raise UserInputError(f'{path}: malformed ({e})') from None


def save_torch(path: PathLike, obj: Any) -> None:
    r"""``torch.save`` to :obj:`path`, atomically."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_torch(path: PathLike, map_location: Any = 'cpu') -> Any:
    r"""``torch.load`` with ``weights_only=True``: never unpickles arbitrary objects."""
    return torch.load(path, map_location=map_location, weights_only=True)
