"""Early-stopping rules replayed on recorded validation curves.

Every finished run folder holds its validation curve (``history.json``). This script feeds
those curves to :class:`~pyg_llminit.training.stopping.EarlyStopping` under other
countings and patiences, and says where each rule would have stopped, which epoch it
would have kept and that epoch's validation score, against the best of the whole recorded
curve. A curve ends where its own run stopped: a rule that would have gone on past it is
reported as ``>N`` (censored), so replay long runs (``--patience 50`` comparisons) to
judge a rule that stops later than the one that recorded them.

Usage::

    python benchmarks/stopping_replay.py /work/evidence/ml100k-lightgcn-p50 \\
        --rules strict:10,smoothed:10,strict:30 [--out replay.md]
"""
import argparse
import json
from pathlib import Path

from pyg_llminit.experiment.tables import markdown_table
from pyg_llminit.training.stopping import EarlyStopping


def replay(curve, counting: str, patience: int, warmup: int):
    r"""``(stop epoch or None if censored, kept epoch, kept score)`` of one rule."""
    stopping = EarlyStopping(patience=patience, warmup=warmup, counting=counting)
    for epoch, score in enumerate(curve, start=1):
        if stopping.update(epoch, score):
            return epoch, stopping.best_epoch, stopping.best_score
    return None, stopping.best_epoch, stopping.best_score


def curves(folder: Path, monitor: str):
    r"""``{run name: validation curve}`` of the run folders under :obj:`folder`."""
    found = {}
    for history in sorted(folder.rglob('history.json')):
        entries = json.loads(history.read_text())
        if entries and monitor in entries[0]['val']:
            found[history.parent.name] = [e['val'][monitor] for e in entries]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folders', nargs='+', type=Path)
    parser.add_argument('--rules', default='strict:10,smoothed:10,strict:30',
                        help='counting:patience, comma-separated')
    parser.add_argument('--warmup', type=int, default=30)
    parser.add_argument('--monitor', default='ndcg@10')
    parser.add_argument('--out', type=Path)
    args = parser.parse_args()
    rules = [(r.split(':')[0], int(r.split(':')[1])) for r in args.rules.split(',')]
    rows = []
    for folder in args.folders:
        for name, curve in curves(folder, args.monitor).items():
            best = max(range(len(curve)), key=curve.__getitem__)
            row = [f'{folder.name}/{name}', str(len(curve)),
                   f'{best + 1}: {curve[best]:.4f}']
            for counting, patience in rules:
                stop, kept, score = replay(curve, counting, patience, args.warmup)
                row.append(f'{stop if stop else ">" + str(len(curve))} -> {kept}: '
                           f'{score:.4f}')
            rows.append(row)
    table = markdown_table(['run', 'epochs recorded', 'best recorded (epoch: score)',
                            *(f'{c} patience {p}: stop -> kept' for c, p in rules)], rows)
    text = (f'Validation {args.monitor}, warm-up {args.warmup}; each rule: the epoch it '
            'stops at (`>N`: past the recorded curve) -> the epoch it keeps: its score.\n\n'
            + table + '\n')
    print(text)
    if args.out:
        from pyg_llminit.io import atomic_path
        with atomic_path(args.out) as tmp:
            tmp.write_text(text)


if __name__ == '__main__':
    main()
