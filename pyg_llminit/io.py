"""Atomic file writes: a reader never sees a half-written cache, checkpoint or result."""
import errno
import json
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import torch

from .errors import DataError, StorageError, UserInputError, invalid

PathLike = Union[str, os.PathLike]


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    r"""Yields a temporary path beside :obj:`path`; on success it is renamed onto
    :obj:`path` (an atomic ``os.replace``), on failure it is removed. A write that fails on
    a full disk raises ``OSError(ENOSPC)`` naming :obj:`path`, also from writers that hide
    the OS error (``torch.save``, ``safetensors``).

    Example:
        >>> with atomic_path('results.json') as tmp:
        ...     tmp.write_text('{}')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    tmp_path: Optional[Path] = None
    held = _hold_signals()  # a Ctrl-C inside mkstemp would leave its file behind
    try:  # from here on an interruption (Ctrl-C) removes the temporary file
        fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
        tmp_path = Path(tmp)
        _release_signals(held)  # one that came meanwhile is raised here, inside the try
        os.close(fd)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as e:
        if e.filename in (None, tmp):  # the file being written, not its temporary name
            e.filename = str(path)
        raise
    except Exception as e:
        if _disk_full(path.parent, e):  # checked before the temporary file frees space
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from e
        raise
    finally:
        _release_signals(held)
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


def _hold_signals() -> Optional[set]:
    r"""Defers Ctrl-C and SIGTERM (they wait, pending, until :func:`_release_signals`);
    returns the mask to restore (``None`` where signal masks do not exist)."""
    if not hasattr(signal, 'pthread_sigmask'):  # pragma: no cover - not POSIX
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)


def _release_signals(previous: Optional[set]) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _disk_full(folder: Path, error: Exception) -> bool:
    r"""Whether :obj:`error`, raised while writing into :obj:`folder`, is a full disk that
    its writer reported in its own words (torch: ``unexpected pos``; safetensors:
    ``os error 28``)."""
    text = str(error)
    if 'No space left' in text or 'os error 28' in text:
        return True
    try:
        return shutil.disk_usage(folder).free < 2 ** 20
    except OSError:
        return False


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
    from filelock import FileLock
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        yield
        return
    with FileLock(str(path)):
        yield


def lock_file_of(target: PathLike) -> Path:
    r"""The lock file that guards :obj:`target` (a run folder, a comparison, an output
    file): ``.<name>.lock`` beside it, so that the lock outlives a swap of the folder."""
    target = Path(target).absolute()
    return target.parent / f'.{target.name}.lock'


@contextmanager
def exclusive(target: PathLike, param: str = 'out', shown: Any = None) -> Iterator[None]:
    r"""Makes this process the only writer of :obj:`target` while the block runs: a second
    process (a ``train`` with the same ``--out``, a ``train --resume`` of the same run) gets
    a :class:`~pyg_llminit.errors.UserInputError` about :obj:`param` that names the holder's
    pid, instead of waiting or mixing its files with the first's (:obj:`shown`: the path as
    the user gave it, for that message). The lock is the kernel's (``flock``): a killed
    holder releases it, so a stale lock file never blocks.

    Example:
        >>> with exclusive('runs/quick'):
        ...     train_into('runs/quick')
    """
    from filelock import FileLock, Timeout
    lock_path = lock_file_of(target)
    shown = target if shown is None else shown
    check_writable_folder(lock_path.parent, param, shown)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path.touch()
    except OSError as e:
        raise invalid(param, f'{shown}: cannot write there ({e.strerror})',
                      StorageError) from None
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = f"pid {int(lock_path.read_text().split()[0])}"
        except (OSError, ValueError, IndexError):
            holder = 'another process'
        raise invalid(param, f'{shown} is being written by another pyg-llminit process '
                      f'({holder}): wait for it to finish, or choose another folder',
                      StorageError) from None
    try:
        lock_path.write_text(f'{os.getpid()}\n')  # for the message of the next one
        yield
    finally:
        if not Path(target).exists():  # nothing was written: leave no lock file either
            lock_path.unlink(missing_ok=True)
        lock.release()


def link_tree(source: Path, target: Path) -> None:
    r"""Hard links (copies, where links are refused) of file or folder :obj:`source`."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=link)
    else:
        link(str(source), str(target))


def swap_folders(new: PathLike, old: PathLike) -> None:
    r"""Puts folder :obj:`new` in the place of folder :obj:`old` and :obj:`old` in the
    place of :obj:`new`: in one atomic step where the kernel offers it (Linux
    ``renameat2(RENAME_EXCHANGE)``), else in two renames through a third name, so that at
    every instant each folder's files are complete under some name."""
    import ctypes
    new, old = os.fsencode(Path(new)), os.fsencode(Path(old))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd, rename_exchange = -100, 2
        if libc.renameat2(at_fdcwd, new, at_fdcwd, old, rename_exchange) == 0:
            return
    except (AttributeError, OSError):  # no renameat2 in this C library
        pass
    aside = os.fsencode(_aside(os.fsdecode(old)))
    os.rename(old, aside)
    os.rename(new, old)  # killed before this: recover_swap puts old back
    os.rename(aside, new)


def recover_swap(folder: PathLike) -> None:
    r"""Puts :obj:`folder` back where a :func:`swap_folders` without the atomic step was
    killed between its renames (its files wait under a hidden name beside it)."""
    aside = _aside(folder)
    if aside.is_dir() and not Path(folder).exists():
        os.rename(aside, folder)


def _aside(folder: PathLike) -> Path:
    folder = Path(folder).absolute()
    return folder.parent / f'.{folder.name}.swap'


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
    existing = _nearest_existing(folder)
    if not create and existing != folder:
        problem, kind = f'{folder} does not exist', UserInputError
    elif not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        problem, kind = f'{existing} is not a writable folder', StorageError
    else:
        return
    raise invalid(param, f'{folder if shown is None else shown}: cannot write there '
                  f'({problem})', kind)


def _nearest_existing(folder: Path) -> Path:
    r""":obj:`folder` or its nearest ancestor that exists (the root always does)."""
    return next(p for p in [folder, *folder.parents] if p.exists())


def pyg_llminit_home() -> Path:
    r"""The package's cache folder: ``$PYG_LLMINIT_HOME``, by default
    ``~/.cache/pyg-llminit`` (processed graphs, item embeddings, text models); one that is
    a file is a :class:`~pyg_llminit.errors.UserInputError`."""
    home = Path(os.environ.get('PYG_LLMINIT_HOME',
                               Path.home() / '.cache' / 'pyg-llminit')).expanduser()
    check_folder(home, 'PYG_LLMINIT_HOME')
    return home


def check_folder(folder: PathLike, what: str) -> None:
    r"""Raises a :class:`~pyg_llminit.errors.UserInputError` when :obj:`folder`, or the
    nearest of its ancestors that exists, is not a folder (a cache path that names a
    file); :obj:`what` names the setting. Being read-only is fine: a cache may be."""
    folder = Path(folder).absolute()
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        shown = '' if existing == folder else f' ({existing} is a file)'
        raise UserInputError(f'{what} {folder}: not a folder{shown}',
                             param=None if what.isupper() else what)


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
        raise DataError(f'{path}: malformed ({e})') from None


def save_torch(path: PathLike, obj: Any) -> None:
    r"""``torch.save`` to :obj:`path`, atomically."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_torch(path: PathLike, map_location: Any = 'cpu') -> Any:
    r"""``torch.load`` with ``weights_only=True``: never unpickles arbitrary objects."""
    return torch.load(path, map_location=map_location, weights_only=True)
