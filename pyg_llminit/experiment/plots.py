"""Plots of runs and comparisons, drawn with matplotlib's headless Agg backend and written
atomically as PNG files."""
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


def validation_curves(curves: Dict[str, Dict[str, List[float]]], metric: str,
                      path: Path) -> None:
    r"""The validation :obj:`metric` per epoch of every arm: the mean over its seeds (those
    still training at that epoch) with a band of one standard deviation.

    Args:
        curves (dict): ``{arm: {seed: [value per epoch]}}``.
        metric (str): The metric's name, for the axis label.
        path (Path): The PNG file.
    """
    import numpy as np
    fig, ax = _figure()
    for colour, (arm, by_seed) in zip(COLOURS * 4, curves.items()):
        length = max(len(c) for c in by_seed.values())
        values = np.full((len(by_seed), length), np.nan)
        for row, curve in enumerate(by_seed.values()):
            values[row, :len(curve)] = curve
        epochs = np.arange(1, length + 1)
        mean = np.nanmean(values, 0)
        std = np.nan_to_num(np.nanstd(values, 0))
        ax.plot(epochs, mean, color=colour, lw=1.6, label=f'{arm} ({len(by_seed)} seeds)')
        ax.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel('epoch')
    ax.set_ylabel(f'validation {metric}')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f'Validation {metric}: mean over seeds, band of ±1 std', fontsize=10)
    _save(fig, path)


def group_bars(groups: Dict[str, Dict[str, Dict]], metric: str, path: Path) -> None:
    r"""Grouped bars of a test :obj:`metric` per user group, one bar per arm, with the
    standard deviation over seeds as error bars.

    Args:
        groups (dict): ``{arm: {group: {'users': n, metric: {'mean', 'std'}}}}``.
        metric (str): The metric to show.
        path (Path): The PNG file.
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
    for offset, (colour, (arm, by_group)) in enumerate(zip(COLOURS * 4, groups.items())):
        means = [by_group[g][metric]['mean'] for g in names]
        stds = [by_group[g][metric]['std'] for g in names]
        ax.bar(x + (offset - (len(groups) - 1) / 2) * width, means, width, yerr=stds,
               color=colour, label=arm, capsize=2, error_kw={'lw': 0.8})
    first = next(iter(groups.values()))
    ax.set_xticks(x, [f'{g}\n{first[g]["users"]:,} users' for g in names])
    ax.set_xlabel('training interactions per user')
    ax.set_ylabel(f'test {metric}')
    ax.grid(alpha=0.3, axis='y')
    ax.legend(fontsize=8)
    ax.set_title(f'Test {metric} per user group: mean over seeds, ±1 std', fontsize=10)
    _save(fig, path)


__all__ = ['validation_curves', 'group_bars']
