"""Run folders: the one writer and reader of a run's files.

A run folder holds ``config.json`` (the :class:`~pyg_llminit.experiment.ExperimentConfig`),
``history.json`` (per epoch: seconds, loss, validation metrics; rewritten after every
epoch), ``best.pt`` (state dict of the best validation epoch), ``results.json`` (best
epoch, validation and test metrics, most-popular on test, per user group) and
``provenance.json`` (versions, the graph's path and a fingerprint of its data) and
``test_per_user.csv`` (every test user's id, training interactions and metrics, for one's
own tests; :meth:`RunFolder.read_per_user`) and ``console.log`` (the run's console
output); while it trains, also ``last.pt`` (the state after the last epoch, for ``train
--resume``, removed once ``results.json`` is written). Every file is written to a
temporary name and renamed, so an interrupted run never leaves a half-written file.
:func:`~pyg_llminit.experiment.load_run` rebuilds a finished run from its folder.
"""
import hashlib
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union

import torch

from ..errors import DataError, UserInputError, first_line, invalid
from ..io import (check_writable_folder, exclusive, link_tree, load_torch, read_json,
                  recover_swap, save_torch, swap_folders, write_json)
from ..training.trainer import CHECKPOINT_KEYS
from .config import ExperimentConfig, from_flat_config
from .per_user import read_per_user, write_per_user
from .trackers import TRACKER_FILES, open_trackers

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData


class RunFolder:
    r"""The files of one run, written atomically; creates the folder on the first write,
    so a run that fails before training leaves nothing behind. A process that writes a run
    holds its lock (:meth:`lock`, taken by :meth:`for_new_run`) until :meth:`close`: one
    writer per folder.

    Args:
        path (str or Path): The folder.
    """
    CONFIG, HISTORY, BEST, RESULTS = 'config.json', 'history.json', 'best.pt', 'results.json'
    PROVENANCE, LAST, PER_USER = 'provenance.json', 'last.pt', 'test_per_user.csv'
    CONSOLE = 'console.log'
    FILES = (CONFIG, HISTORY, BEST, RESULTS, PROVENANCE, PER_USER, CONSOLE)
    #: What experiment trackers (``--logger``) keep in a run folder: a run's files too.
    TRACKED = tuple(TRACKER_FILES.values())

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        self._target: Optional[Path] = None  # with overwrite: where self.path goes, complete
        self._held = ExitStack()
        self._trackers: list = []

    def track(self, loggers: Sequence[str]) -> 'RunFolder':
        r"""Also reports every epoch and the results to these experiment trackers
        (:mod:`~pyg_llminit.experiment.trackers`); they keep their files in the folder."""
        self._trackers = open_trackers(loggers, lambda: self.path)
        return self

    @classmethod
    def for_new_run(cls, out: Optional[Union[str, Path]], config: ExperimentConfig,
                    overwrite: bool = False) -> 'RunFolder':
        r"""The folder of a new run, checked before anything is loaded or trained.

        Args:
            out (str or Path, optional): The folder. It must not hold any file unless
                :obj:`overwrite`, and then the new run is written beside it (in
                ``.<name>.new``) and swapped in once its first epoch is on disk: a run that
                fails or is killed before leaves the earlier run byte-identical (files that
                are not a run's are kept). ``None``: a new folder
                ``runs/<graph>-<model>-<init>-<time>`` (``-2``, ``-3``, ... if taken),
                created at once so that runs started in the same second differ.
            config (ExperimentConfig): The run's config (names the default folder).
            overwrite (bool): Allow a folder that holds files.

        Raises:
            UserInputError: :obj:`out` holds files (without :obj:`overwrite`), or another
                process writes it.
        """
        if out is None:
            stamp = time.strftime('%Y%m%d-%H%M%S')
            name = Path(config.graph).name if Path(config.graph).exists() else config.graph
            return cls(_new_folder(Path('runs') / f'{name}-{config.model}-{config.init}-'
                                                  f'{stamp}')).lock()
        path = Path(out).absolute()
        check_writable_folder(path, 'out', out)
        folder = cls(path).lock('out', shown=out)
        try:
            held = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
            if held and not overwrite:
                shown = ', '.join(held[:3]) + (', ...' if len(held) > 3 else '')
                raise invalid('out', f'{out} already holds files ({shown}): choose another '
                              'folder, or replace its run files (--overwrite, overwrite=True)')
            if held:
                folder.path, folder._target = _staging(path), path
        except BaseException:
            folder.close()
            raise
        return folder

    def lock(self, param: str = 'out', shown: Any = None) -> 'RunFolder':
        r"""Makes this process the folder's only writer until :meth:`close` (see
        :func:`~pyg_llminit.io.exclusive`), then tidies what a killed writer left: a
        folder whose swap was cut short goes back, a replacement that never completed (or
        an earlier run already replaced) is removed. :obj:`param` and :obj:`shown` name
        the folder in the error."""
        self._held.enter_context(exclusive(self.path, param, shown))
        recover_swap(self.path)
        shutil.rmtree(_staging(self.path), ignore_errors=True)
        return self

    def close(self) -> None:
        r"""Ends the run's hold on the folder: a replacement that never completed its first
        epoch is removed (the earlier run stays as it was), then the lock is released."""
        for tracker in self._trackers:
            tracker.close()
        if self._target is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path, self._target = self._target, None
        self._held.close()

    def __enter__(self) -> 'RunFolder':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def tee(self, log: Callable[[str], None]) -> Callable[[str], None]:
        r""":obj:`log`, also appending every line to ``console.log``: the whole console
        output of the run (a resumed run goes on in the same file). Lines before the run
        writes its config wait in memory (so a run that fails early leaves no folder) and
        are written with it."""
        self._pending = []

        def both(line: str) -> None:
            log(line)
            self._pending.append(line)
            self._flush_console()
        return both

    def _flush_console(self) -> None:
        if getattr(self, '_pending', None) and (self.path / self.CONFIG).is_file():
            with open(self.path / self.CONSOLE, 'a') as f:
                f.write(''.join(f'{text}\n' for text in self._pending))
            self._pending.clear()

    def discard_if_empty(self) -> None:
        r"""Removes the folder if the run wrote nothing into it (it failed early)."""
        try:
            self.path.rmdir()
        except OSError:  # holds files, or is gone
            pass

    def write_provenance(self, data: 'HeteroData', graph: str,
                         text_vectors: Optional[torch.Tensor] = None) -> None:
        r"""Versions (the package's git commit when it runs from a checkout), the command
        line, the graph as given and resolved, its fingerprint, and the identity of the
        item text vectors ``[num_items, d_LLM]`` an LLMInit run started from (shape and
        SHA-256 of their float32 bytes: the same vectors, whatever model or file made them)."""
        import platform
        import sys
        from importlib.metadata import version

        import torch_geometric

        from .. import __version__
        from ..datasets.graph import graph_fingerprint
        write_json(self.path / self.PROVENANCE, {
            'pyg_llminit': __version__, 'git_commit': _git_commit(),
            'torch': torch.__version__, 'torch_geometric': torch_geometric.__version__,
            'transformers': version('transformers'),
            'python': platform.python_version(), 'command': sys.argv,
            'graph': graph,
            'graph_path': str(Path(graph).absolute()) if Path(graph).exists() else None,
            'data': graph_fingerprint(data),
            'text_vectors': None if text_vectors is None else {
                'shape': list(text_vectors.shape), 'sha256': vectors_sha256(text_vectors)}})

    def check_text_vectors(self, vectors: Optional[torch.Tensor]) -> None:
        r"""Refuses item text vectors that differ from those the run started from (as
        ``provenance.json`` records them): a new-item map or a cold-item evaluation would
        otherwise read other vectors than the run learnt from."""
        file = self.path / self.PROVENANCE
        if vectors is None or not file.is_file():
            return
        recorded = read_json(file).get('text_vectors')
        if recorded is None:
            return
        now = vectors_sha256(vectors)
        if now != recorded.get('sha256'):
            raise DataError(f'{self.path}: the item text vectors are no longer those this run '
                            f"started from (sha256 {str(recorded.get('sha256'))[:12]}... -> "
                            f'{now[:12]}...: an edited --embedding file, or another version '
                            'of the text model)')

    def check_data(self, data: 'HeteroData') -> None:
        r"""Refuses a graph that differs from the one the run was trained on (runs without
        ``provenance.json``, from before it existed, are not checked)."""
        from ..datasets.graph import graph_fingerprint
        file = self.path / self.PROVENANCE
        if not file.is_file():
            return
        recorded = read_json(file, 'data')
        now = graph_fingerprint(data)
        if now != recorded:
            changed = [k for k in ('users', 'items', 'interactions')
                       if now[k] != recorded.get(k)]
            what = (', '.join(f'{k} {recorded.get(k):,} -> {now[k]:,}' for k in changed)
                    or 'same counts, different ids or interactions')
            raise DataError(f'{self.path}: the graph is no longer the one this run was '
                            f'trained on ({what})')

    def write_config(self, config: ExperimentConfig) -> None:
        r"""Writes ``config.json``, the run's first file."""
        write_json(self.path / self.CONFIG, config.to_dict())
        self._flush_console()

    def save_history(self, history: List[Dict]) -> None:
        r"""Writes ``history.json``, the last file of an epoch; a replacement run is then
        complete (resumable), so it takes the earlier run's place."""
        write_json(self.path / self.HISTORY, history)
        if self._target is not None:
            self._swap_in()
        for tracker in self._trackers:
            tracker.epoch(history)

    def _swap_in(self) -> None:
        staging, target = self.path, self._target
        assert target is not None
        for kept in target.iterdir():  # not a run's files: the user's, in both folders
            if kept.name not in (*self.FILES, *self.TRACKED, self.LAST) and \
                    not (staging / kept.name).exists():
                link_tree(kept, staging / kept.name)
        swap_folders(staging, target)  # the new run in place, the earlier one at staging
        self.path, self._target = target, None
        shutil.rmtree(staging)

    def save_best(self, state: Dict[str, torch.Tensor]) -> None:
        save_torch(self.path / self.BEST, state)

    def save_last(self, checkpoint: Dict[str, Any]) -> None:
        save_torch(self.path / self.LAST, checkpoint)

    def write_results(self, results: Dict[str, Any]) -> None:
        for tracker in self._trackers:  # before results.json: a finished run has them all
            tracker.finish(results)
        write_json(self.path / self.RESULTS, results)
        (self.path / self.LAST).unlink(missing_ok=True)  # finished: nothing to resume

    def write_per_user(self, per_user: Dict[str, torch.Tensor], user_ids: Sequence[str]
                       ) -> None:
        r"""``test_per_user.csv`` (see :func:`~pyg_llminit.experiment.per_user.write_per_user`)."""
        write_per_user(self.path / self.PER_USER, per_user, user_ids)

    def read_per_user(self, missing_ok: bool = False) -> Optional[Dict[str, torch.Tensor]]:
        r"""The columns of ``test_per_user.csv`` (see
        :func:`~pyg_llminit.experiment.per_user.read_per_user`); ``None`` when the file is
        missing and :obj:`missing_ok` (a committed comparison keeps its runs' JSON files,
        not these)."""
        if missing_ok and not (self.path / self.PER_USER).is_file():
            return None
        self._require((self.PER_USER,), 'a finished')
        return read_per_user(self.path / self.PER_USER)

    def read_resume(self) -> Dict[str, Any]:
        r"""The ``last.pt`` of an interrupted run with its best weights under
        ``'best_model'``, for :meth:`~pyg_llminit.training.Trainer.fit`."""
        if (self.path / self.RESULTS).is_file():
            raise UserInputError(f'{self.path}: the run is finished (it has '
                                 f'{self.RESULTS}); nothing to resume')
        self._require((self.CONFIG, self.LAST, self.BEST), 'an interrupted')
        file = self.path / self.LAST
        try:
            checkpoint = load_torch(file)
        except Exception as e:  # noqa: BLE001 - a corrupt or foreign pickle raises all kinds
            raise DataError(f'{file}: cannot read it ({type(e).__name__}); the run '
                            'cannot be resumed') from None
        missing = [k for k in CHECKPOINT_KEYS if k not in checkpoint] \
            if isinstance(checkpoint, dict) else ['epoch']
        if missing:
            raise DataError(f"{file}: not a checkpoint of train (no '{missing[0]}'); "
                            'the run cannot be resumed')
        checkpoint['best_model'] = self.read_best()
        return checkpoint

    def read_config(self, finished: bool = True) -> ExperimentConfig:
        r"""The run's config; a folder that is not a run (a finished one, by default) is a
        user error."""
        self._require((self.CONFIG, self.BEST) if finished else (self.CONFIG,),
                      'a finished' if finished else 'a')
        file = self.path / self.CONFIG
        values = read_json(file)
        if isinstance(values, dict) and 'dim' in values:
            values = from_flat_config(values)
        missing = [k for k in ('graph', 'model', 'init') if k not in values] \
            if isinstance(values, dict) else []
        if missing:  # every run records these: defaults would stand in for another run
            raise DataError(f"{file}: malformed (no '{missing[0]}')")
        try:
            config = ExperimentConfig.from_dict(values)
        except (TypeError, ValueError) as e:
            raise DataError(f'{file}: malformed ({e})') from None
        return self._graph_as_recorded(config)

    def _graph_as_recorded(self, config: ExperimentConfig) -> ExperimentConfig:
        r"""A run whose ``config.json`` holds a relative graph path (made before runs
        recorded absolute ones) reads the graph ``provenance.json`` recorded, wherever
        it is evaluated from."""
        import dataclasses
        from ..datasets.registry import is_builtin_graph
        file = self.path / self.PROVENANCE
        if is_builtin_graph(config.graph) or Path(config.graph).is_absolute() or \
                not file.is_file():
            return config
        provenance = read_json(file)
        recorded = provenance.get('graph_path') if isinstance(provenance, dict) else None
        if isinstance(recorded, str) and Path(recorded).exists():
            return dataclasses.replace(config, graph=recorded)
        return config

    def _require(self, names: Sequence[str], kind: str) -> None:
        for name in names:
            if not (self.path / name).is_file():
                raise UserInputError(f'{self.path}: no {name} (not the folder of {kind} '
                                     'pyg-llminit train run)')

    def read_best(self) -> Dict[str, torch.Tensor]:
        r"""The best weights; an unreadable file (truncated, corrupt, not a checkpoint) is
        one user error."""
        try:
            state = load_torch(self.path / self.BEST)
        except Exception as e:  # noqa: BLE001 - a corrupt pickle raises all kinds
            raise DataError(f'{self.path / self.BEST}: cannot read it, truncated or not '
                            f'a checkpoint ({first_line(e, width=120)})') from None
        if not isinstance(state, dict):
            raise DataError(f'{self.path / self.BEST}: not a state dict')
        return state

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('{self.path}')"


def vectors_sha256(vectors: torch.Tensor) -> str:
    r"""SHA-256 of a tensor's float32 bytes: the same vectors, whatever made them."""
    return hashlib.sha256(vectors.detach().float().cpu().contiguous().numpy().tobytes()
                          ).hexdigest()


def _git_commit() -> Optional[str]:
    r"""The commit of the checkout the package runs from (``+`` when it has uncommitted
    changes); ``None`` for an installed wheel or without git."""
    import subprocess
    source = Path(__file__).resolve().parents[2]
    if not (source / '.git').exists():
        return None
    try:
        git = ['git', '-C', str(source)]
        commit = subprocess.run([*git, 'rev-parse', 'HEAD'], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run([*git, 'status', '--porcelain', '--untracked-files=no'],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ('+' if dirty else '')


def _staging(path: Path) -> Path:
    r"""Where a replacement of run folder :obj:`path` is written until it is complete."""
    path = Path(path).absolute()
    return path.parent / f'.{path.name}.new'


def _new_folder(path: Path) -> Path:
    r"""Creates :obj:`path`, or the first free ``path-2``, ``path-3``, ...; atomic, so two
    runs never get the same folder."""
    check_writable_folder(path, 'out', path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = path if n == 1 else path.with_name(f'{path.name}-{n}')
        try:
            candidate.mkdir()
            return candidate.absolute()
        except FileExistsError:
            continue
    raise UserInputError(f'{path}: no free run folder name')  # pragma: no cover


__all__ = ['RunFolder']
