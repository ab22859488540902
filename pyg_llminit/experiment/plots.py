"""Plots of runs and comparisons, drawn with matplotlib's headless Agg backend and written
atomically as PNG files."""
import textwrap
from pathlib import Path
from typing import Dict, List

from ..io import atomic_path

#: Colours by arm order: the first (usually the baseline) grey, then a qualitative palette.
COLOURS = ['#7f7f7f', '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b',
           '#e377c2', '#17becf', '#bcbd22']


def _figure(width: float = 7.0, height: float = 4.2):
    import matplotlib
    matplotlib.use('Agg')  # no display needed, and none is opened
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=(width, height), dpi=120)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format='png')
    plt.close(fig)


def curves(series: Dict[str, Dict[str, List[float]]], path: Path, xlabel: str, ylabel: str,
           title: str, log_y: bool = False, start: int = 1) -> None:
    r"""One line per name: the mean over its runs (those still going at that x) with a
    band of one standard deviation (none for a single run); a dot marks where one of its
    runs stopped, after which the mean is over fewer runs.

    Args:
        series (dict): ``{name: {run: [value per step]}}``.
        path (Path): The PNG file.
        xlabel, ylabel, title (str): The labels.
        log_y (bool): A logarithmic y axis.
        start (int): The x of the first value.
    """
    import numpy as np
    fig, ax = _figure()
    for colour, (name, runs) in zip(COLOURS * 4, series.items()):
        length = max(len(c) for c in runs.values())
        values = np.full((len(runs), length), np.nan)
        for row, curve in enumerate(runs.values()):
            values[row, :len(curve)] = curve
        x = np.arange(start, start + length)
        mean = np.nanmean(values, 0)
        std = np.nan_to_num(np.nanstd(values, 0))
        label = f'{name} ({len(runs)} seeds)' if len(runs) > 1 else name
        ax.plot(x, mean, color=colour, lw=1.6, label=label)
        if len(runs) > 1:
            ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
            ends = sorted({len(c) for c in runs.values() if 0 < len(c) < length})
            ax.plot([start + e - 1 for e in ends], [mean[e - 1] for e in ends], 'o',
                    color=colour, ms=3.5)
    if log_y:
        ax.set_yscale('log')
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _title(ax, title)
    _save(fig, path)


def validation_curves(series: Dict[str, Dict[str, List[float]]], metric: str,
                      path: Path, context: str = '') -> None:
    r"""The validation :obj:`metric` per epoch of every arm (``{arm: {seed: [value per
    epoch]}}``): the mean over its seeds with a band of one standard deviation;
    :obj:`context` (the graph, split and model) heads the title."""
    seeds = max(len(runs) for runs in series.values())
    what = ('mean over the seeds still training (dot: a seed stopped), band of ±1 std'
            if seeds > 1 else 'one seed')
    curves(series, path, 'epoch', f'validation {metric}',
           f'{context}{": " if context else ""}validation {metric}, {what}')


def group_bars(groups: Dict[str, Dict[str, Dict]], metric: str, path: Path,
               xlabel: str = 'training interactions per user', count: str = 'users',
               context: str = '') -> None:
    r"""Grouped bars of a test :obj:`metric` per group, one bar per arm, with the
    standard deviation over seeds as error bars (none where every arm has one seed).

    Args:
        groups (dict): ``{arm: {group: {count: n, metric: {'mean', 'std'}}}}``.
        metric (str): The metric to show.
        path (Path): The PNG file.
        xlabel (str): What the groups are.
        count (str): The key of each group's size shown under its name.
        context (str): The graph, split and model, heading the title.
    """
    import numpy as np
    names = list(next(iter(groups.values())))
    fig, ax = _figure()
    if not names:
        ax.text(0.5, 0.5, 'no user groups in these runs', ha='center', va='center')
        _save(fig, path)
        return
    width = 0.8 / len(groups)
    x = np.arange(len(names))
    spread = any(v[metric]['std'] for g in groups.values() for v in g.values())
    for offset, (colour, (arm, by_group)) in enumerate(zip(COLOURS * 4, groups.items())):
        means = [by_group[g][metric]['mean'] for g in names]
        stds = [by_group[g][metric]['std'] for g in names]
        ax.bar(x + (offset - (len(groups) - 1) / 2) * width, means, width,
               yerr=stds if spread else None,
               color=colour, label=arm, capsize=2, error_kw={'lw': 0.8})
    first = next(iter(groups.values()))
    ax.set_xticks(x, [f'{g}\n{first[g][count]:,} {count}' for g in names])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f'test {metric}')
    ax.grid(alpha=0.3, axis='y')
    # headroom for the legend in one row above the bars, clear of the error bars
    tallest = max(v[metric]['mean'] + v[metric]['std'] for g in groups.values()
                  for v in g.values())
    ax.set_ylim(0, tallest * (1.15 + 0.08 * ((len(groups) - 1) // 4)) or 1)
    ax.legend(fontsize=8, loc='upper center', ncol=min(len(groups), 4), frameon=False)
    _title(ax, f'{context}{": t" if context else "T"}est {metric} per group' +
           (', mean over seeds, ±1 std' if spread else ''))
    _save(fig, path)


def _title(ax, text: str) -> None:
    r"""A title wrapped to the figure's width (a long one was cut at both edges)."""
    ax.set_title(textwrap.fill(text, TITLE_WIDTH), fontsize=10)


#: Characters per title line at 10 pt on the figures' 8.4-inch width (90 still touched the edge).
TITLE_WIDTH = 80

__all__ = ['curves', 'validation_curves', 'group_bars']
