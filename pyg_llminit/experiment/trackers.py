"""Experiment trackers a run also reports to, beside its own files (``--logger``).

``csv`` keeps ``metrics.csv`` in the run folder: one row per epoch (seconds, loss and every
validation metric), rewritten atomically after each epoch from the run's history, so it
always matches ``history.json``. ``tensorboard`` writes TensorBoard event files to the run
folder's ``tensorboard/`` (``tensorboard --logdir runs``): ``train/loss``,
``train/seconds``, ``valid/<metric>`` per epoch and, at the end, ``test/<metric>`` at the
best epoch and the run's config as text (needs ``pip install "pyg-llminit[tensorboard]"``).
A resumed run reports to the trackers it started with (found in its folder).
"""
import csv
import io as text_io
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

from ..catalog import LOGGERS as TRACKER_FILES
from ..errors import UserInputError, require
from ..io import atomic_path


class CSVTracker:
    r"""``metrics.csv``: one row per epoch, from the run's history.

    Args:
        folder (callable): Returns the run folder (it moves when an overwrite swaps in).
    """
    name = 'csv'

    def __init__(self, folder: Callable[[], Path]) -> None:
        self.folder = folder

    def epoch(self, history: List[Dict[str, Any]]) -> None:
        metrics = sorted({m for record in history for m in record.get('val', {})})
        out = text_io.StringIO()
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow(['epoch', 'seconds', 'eval_seconds', 'loss',
                         *(f'valid/{m}' for m in metrics)])
        for r in history:
            writer.writerow([r['epoch'], r['seconds'], r.get('eval_seconds', ''), r['loss'],
                             *(r.get('val', {}).get(m, '') for m in metrics)])
        with atomic_path(self.folder() / TRACKER_FILES[self.name]) as tmp:
            Path(tmp).write_text(out.getvalue())

    def finish(self, results: Dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


class TensorBoardTracker:
    r"""TensorBoard event files in ``tensorboard/``, through
    :class:`torch.utils.tensorboard.SummaryWriter` (opened at the first epoch).

    Args:
        folder (callable): Returns the run folder.
    """
    name = 'tensorboard'

    def __init__(self, folder: Callable[[], Path]) -> None:
        _require_tensorboard()
        self.folder = folder
        self.writer = None

    def _open(self):
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(log_dir=str(self.folder() / TRACKER_FILES[self.name]))
        return self.writer

    def epoch(self, history: List[Dict[str, Any]]) -> None:
        record, writer = history[-1], self._open()  # called once per epoch: the new one
        step = record['epoch']
        writer.add_scalar('train/loss', record['loss'], step)
        writer.add_scalar('train/seconds', record['seconds'], step)
        for metric, value in record.get('val', {}).items():
            writer.add_scalar(f'valid/{metric}', value, step)
        writer.flush()

    def finish(self, results: Dict[str, Any]) -> None:
        writer = self._open()
        for metric, value in results.get('test', {}).items():
            writer.add_scalar(f'test/{metric}', value, results['best_epoch'])
        writer.add_text('config', '```\n' + json.dumps(results.get('config', {}), indent=2)
                        + '\n```')
        writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


TRACKERS = {'csv': CSVTracker, 'tensorboard': TensorBoardTracker}


def _require_tensorboard() -> None:
    require('tensorboard', 'tensorboard', 'logger tensorboard', param='logger')


def check_trackers(names: Sequence[str]) -> Tuple[str, ...]:
    r"""The tracker names, checked (known, installed) and without repeats, in order."""
    out = []
    for name in names:
        key = name.strip().lower()
        if key not in TRACKERS:
            raise UserInputError(f"logger '{name}' is unknown (known: {', '.join(TRACKERS)})",
                                 param='logger')
        if key == 'tensorboard':
            _require_tensorboard()
        if key not in out:
            out.append(key)
    return tuple(out)


def open_trackers(names: Sequence[str], folder: Callable[[], Path]) -> list:
    r"""One tracker per name (see :func:`check_trackers`), reporting into :obj:`folder`."""
    return [TRACKERS[name](folder) for name in check_trackers(names)]


def trackers_in(folder: Path) -> Tuple[str, ...]:
    r"""The trackers a run folder was reporting to (for a resumed run)."""
    return tuple(name for name, file in TRACKER_FILES.items() if (folder / file).exists())


__all__ = ['TRACKERS', 'TRACKER_FILES', 'CSVTracker', 'TensorBoardTracker', 'check_trackers',
           'open_trackers', 'trackers_in']
