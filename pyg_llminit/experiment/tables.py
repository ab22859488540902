"""Plain-text tables of a run's output: graph statistics, metrics side by side, metrics per
group of users."""
from typing import Dict, List


def text_table(rows: List[List[str]], header: List[str]) -> str:
    r"""Columns padded to their widest cell, the first left-aligned, the others right."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: '  '.join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return '\n'.join([line(header), '  '.join('-' * w for w in widths)] + [line(r) for r in rows])


def markdown_table(header: List[str], rows: List[List[str]]) -> str:
    r"""A GitHub markdown table, the first column left-aligned, the others right."""
    def line(cells: List[str]) -> str:
        return '| ' + ' | '.join(str(c) for c in cells) + ' |'
    return '\n'.join([line(header), line([':--'] + ['--:'] * (len(header) - 1))]
                     + [line(r) for r in rows])


def stats_table(stats: Dict[str, float]) -> str:
    rows = [[k, f'{v:,}' if isinstance(v, int) else f'{v:.4g}'] for k, v in stats.items()]
    return text_table(rows, ['statistic', 'value'])


def metrics_table(columns: Dict[str, Dict[str, float]]) -> str:
    r"""One row per metric, one column per named set of metrics (the first set's metrics)."""
    names = list(next(iter(columns.values())))
    rows = [[name, *(f'{values[name]:.4f}' for values in columns.values())] for name in names]
    return text_table(rows, ['metric', *columns])


def results_table(results: Dict) -> str:
    r"""A finished run's validation metrics at its best epoch, test, and most-popular on
    test (or, on held-out items, the references: see :mod:`pyg_llminit.coldstart`)."""
    return metrics_table({f'valid (epoch {results["best_epoch"]})': results['valid'],
                          **split_columns(results, 'test')})


def split_columns(results: Dict, split: str) -> Dict[str, Dict[str, float]]:
    r"""The columns of :obj:`split` in :obj:`results`: the model's, then most-popular's or
    (on held-out items) the references'."""
    columns = {split: results[split]}
    if f'{split}_most_popular' in results:
        columns[f'{split} most-popular'] = results[f'{split}_most_popular']
    for name, metrics in results.get(f'{split}_cold_references', {}).items():
        columns[f'{split} {name}'] = metrics
    return columns


def groups_table(groups: Dict[str, Dict[str, float]],
                 first: str = 'training interactions') -> str:
    r"""Metrics at the smallest K per group (of users by training interactions, or of
    items by popularity: then with the group's item count)."""
    metrics = [name for name in next(iter(groups.values())) if '@' in name]
    k = min(int(name.split('@')[1]) for name in metrics)
    names = [name for name in metrics if name.endswith(f'@{k}')]
    counts = [c for c in ('items', 'users') if c in next(iter(groups.values()))]
    rows = [[group, *(f'{values[c]:,}' for c in counts), *(f'{values[n]:.4f}' for n in names)]
            for group, values in groups.items()]
    return text_table(rows, [first, *counts, *names])


__all__ = ['text_table', 'markdown_table', 'stats_table', 'metrics_table', 'results_table',
           'split_columns', 'groups_table']
