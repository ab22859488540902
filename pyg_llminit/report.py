"""Plain-text tables of the command line: statistics, results, per-group metrics."""
from typing import Dict, List


def text_table(rows: List[List[str]], header: List[str]) -> str:
    r"""Columns padded to their widest cell, the first left-aligned, the others right."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: '  '.join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return '\n'.join([line(header), '  '.join('-' * w for w in widths)] + [line(r) for r in rows])


def stats_table(stats: Dict[str, float]) -> str:
    rows = [[k, f'{v:,}' if isinstance(v, int) else f'{v:.4g}'] for k, v in stats.items()]
    return text_table(rows, ['statistic', 'value'])


def results_table(results: Dict) -> str:
    rows = [[name, f'{results["valid"][name]:.4f}', f'{results["test"][name]:.4f}',
             f'{results["test_most_popular"][name]:.4f}'] for name in results['test']]
    return text_table(rows, ['metric', f'valid (epoch {results["best_epoch"]})', 'test',
                             'test most-popular'])


def groups_table(groups: Dict[str, Dict[str, float]]) -> str:
    r"""Metrics at the smallest K per group of users by training interactions."""
    metrics = [name for name in next(iter(groups.values())) if '@' in name]
    k = min(int(name.split('@')[1]) for name in metrics)
    names = [name for name in metrics if name.endswith(f'@{k}')]
    rows = [[group, f'{values["users"]:,}', *(f'{values[n]:.4f}' for n in names)]
            for group, values in groups.items()]
    return text_table(rows, ['training interactions', 'users', *names])
