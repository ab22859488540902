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
import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union

import torch

from ..errors import UserInputError, first_line, invalid
from ..io import (atomic_path, check_writable_folder, exclusive, load_torch, read_json,
                  recover_swap, save_torch, swap_folders, write_json)
from .config import ExperimentConfig

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
    PER_USER_INTEGERS = ('user_index', 'train_degree')  # test_per_user.csv's integer columns
    CONSOLE = 'console.log'
    FILES = (CONFIG, HISTORY, BEST, RESULTS, PROVENANCE, PER_USER, CONSOLE)

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        self._target: Optional[Path] = None  # with overwrite: where self.path goes, complete
        self._held = ExitStack()

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

    def write_provenance(self, data: 'HeteroData', graph: str) -> None:
        r"""Versions, the graph as given and resolved, and its fingerprint."""
        import platform

        import torch_geometric

        from .. import __version__
        from ..datasets.graph import graph_fingerprint
        write_json(self.path / self.PROVENANCE, {
            'pyg_llminit': __version__, 'torch': torch.__version__,
            'torch_geometric': torch_geometric.__version__,
            'python': platform.python_version(), 'graph': graph,
            'graph_path': str(Path(graph).absolute()) if Path(graph).exists() else None,
            'data': graph_fingerprint(data)})

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
            raise UserInputError(f'{self.path}: the graph is no longer the one this run was '
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

    def _swap_in(self) -> None:
        staging, target = self.path, self._target
        assert target is not None
        for kept in target.iterdir():  # not a run's files: the user's, in both folders
            if kept.name not in (*self.FILES, self.LAST) and not (staging / kept.name).exists():
                _link_tree(kept, staging / kept.name)
        swap_folders(staging, target)  # the new run in place, the earlier one at staging
        self.path, self._target = target, None
        shutil.rmtree(staging)

    def save_best(self, state: Dict[str, torch.Tensor]) -> None:
        save_torch(self.path / self.BEST, state)

    def save_last(self, checkpoint: Dict[str, Any]) -> None:
        save_torch(self.path / self.LAST, checkpoint)

    def write_results(self, results: Dict[str, Any]) -> None:
        write_json(self.path / self.RESULTS, results)
        (self.path / self.LAST).unlink(missing_ok=True)  # finished: nothing to resume

    def write_per_user(self, per_user: Dict[str, torch.Tensor], user_ids: Sequence[str]
                       ) -> None:
        r"""``test_per_user.csv``: one row per test user, its original id, then the columns
        of :obj:`per_user` (``{'user': [N], 'train_degree': [N], 'recall@10': [N], ...}``,
        see :func:`~pyg_llminit.evaluation.evaluate_held_out`)."""
        import csv
        names = [k for k in per_user if k != 'user']
        rows = zip(per_user['user'].tolist(), *(per_user[k].tolist() for k in names))
        with atomic_path(self.path / self.PER_USER) as tmp, open(tmp, 'w', newline='') as f:
            out = csv.writer(f)
            out.writerow(['user_id', 'user_index', *names])
            for user, *values in rows:
                out.writerow([user_ids[user], user,
                              *(v if isinstance(v, int) else f'{v:.6g}' for v in values)])

    def read_per_user(self, missing_ok: bool = False) -> Optional[Dict[str, torch.Tensor]]:
        r"""The columns of ``test_per_user.csv`` but ``user_id`` as tensors, keyed as
        :meth:`write_per_user` takes them (``{'user': [N], 'train_degree': [N],
        'recall@10': [N], ...}``, the first two integers: the file's ``user_index`` column
        comes back as ``'user'``); ``None`` when the file is missing and :obj:`missing_ok`
        (a committed comparison keeps its runs' JSON files, not these)."""
        import csv
        if missing_ok and not (self.path / self.PER_USER).is_file():
            return None
        self._require((self.PER_USER,), 'a finished')
        file = self.path / self.PER_USER
        try:
            with open(file, newline='') as f:
                rows = list(csv.reader(f))
            header, body = rows[0][1:], [row[1:] for row in rows[1:]]
            for name in self.PER_USER_INTEGERS:
                if name not in header:
                    raise UserInputError(f'{file}: malformed (no column {name!r})')
            # integers parsed as such: float32 holds them exactly only below 2**24
            columns = {name: torch.tensor([int(row[i]) for row in body])
                       if name in self.PER_USER_INTEGERS
                       else torch.tensor([float(row[i]) for row in body])
                       for i, name in enumerate(header)}
        except (IndexError, ValueError) as e:
            raise UserInputError(f'{file}: malformed ({e})') from None
        return {'user': columns.pop('user_index'), **columns}

    def read_resume(self) -> Dict[str, Any]:
        r"""The ``last.pt`` of an interrupted run with its best weights under
        ``'best_model'``, for :meth:`~pyg_llminit.training.Trainer.fit`."""
        if (self.path / self.RESULTS).is_file():
            raise UserInputError(f'{self.path}: the run is finished (it has '
                                 f'{self.RESULTS}); nothing to resume')
        self._require((self.CONFIG, self.LAST, self.BEST), 'an interrupted')
        try:
            checkpoint = load_torch(self.path / self.LAST)
            checkpoint['best_model'] = self.read_best()
        except (RuntimeError, EOFError, OSError, KeyError, TypeError) as e:
            raise UserInputError(f'{self.path / self.LAST}: cannot read it ({type(e).__name__}'
                                 f'); the run cannot be resumed') from None
        return checkpoint

    def read_config(self, finished: bool = True) -> ExperimentConfig:
        r"""The run's config; a folder that is not a run (a finished one, by default) is a
        user error."""
        self._require((self.CONFIG, self.BEST) if finished else (self.CONFIG,),
                      'a finished' if finished else 'a')
        file = self.path / self.CONFIG
        values = read_json(file)
        if isinstance(values, dict) and 'dim' in values:
            values = _from_flat_config(values)
        missing = [k for k in ('graph', 'model', 'init') if k not in values] \
            if isinstance(values, dict) else []
        if missing:  # every run records these: defaults would stand in for another run
            raise UserInputError(f"{file}: malformed (no '{missing[0]}')")
        try:
            return ExperimentConfig.from_dict(values)
        except (TypeError, ValueError) as e:
            raise UserInputError(f'{file}: malformed ({e})') from None

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
            raise UserInputError(f'{self.path / self.BEST}: cannot read it, truncated or not '
                                 f'a checkpoint ({first_line(e, width=120)})') from None
        if not isinstance(state, dict):
            raise UserInputError(f'{self.path / self.BEST}: not a state dict')
        return state

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('{self.path}')"


def _from_flat_config(values: Dict[str, Any]) -> Dict[str, Any]:
    r"""The ``config.json`` of runs made before :class:`ExperimentConfig` (one flat dict in
    the command line's names) in today's form, so those runs still load."""
    from dataclasses import fields
    from ..training import TrainConfig
    renamed = {'dim': 'embedding_dim', 'layers': 'num_layers', 'reg': 'reg_weight'}
    experiment = {f.name for f in fields(ExperimentConfig)}
    train = {f.name for f in fields(TrainConfig)}
    out: Dict[str, Any] = {'train': {}}
    for key, value in values.items():
        key = renamed.get(key, key)
        if key in train:
            out['train'][key] = value
        elif key in experiment:
            out[key] = value  # other keys (world_size, out) described the run, not its setup
    if out.get('encoder') is None:
        out.pop('encoder', None)
    return out


def _staging(path: Path) -> Path:
    r"""Where a replacement of run folder :obj:`path` is written until it is complete."""
    path = Path(path).absolute()
    return path.parent / f'.{path.name}.new'


def _link_tree(source: Path, target: Path) -> None:
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
