"""The PNGs draw the numbers they are given: bar heights and line slopes read back from
the pixels."""
import numpy as np
import pytest

from pyg_llminit.experiment.plots import COLOURS, curves, group_bars


def _mask(path, colour: str) -> np.ndarray:
    r"""``[H, W]`` pixels of exactly :obj:`colour` (the inside of a bar or a line)."""
    from matplotlib.image import imread
    image = imread(path)[..., :3]
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.abs(image - rgb).max(-1) < 0.02


def _bar_heights(mask: np.ndarray):
    r"""Height in pixels of each bar: the columns holding the colour, grouped into runs of
    adjacent columns (narrow runs are a legend patch standing alone), each measured from
    its top pixel to its bottom one in six columns off its centre (where the error bar
    is), keeping the median: a legend patch drawn over one or two of them, or grid lines
    across the bar, do not change it."""
    columns = np.flatnonzero(mask.any(0))
    runs = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)
    heights = []
    for run in (r for r in runs if len(r) > 40):
        extents = []
        for share in (0.1, 0.2, 0.3, 0.7, 0.8, 0.9):
            rows = np.flatnonzero(mask[:, run[int(share * (len(run) - 1))]])
            extents.append(rows.max() - rows.min() + 1)
        heights.append(int(np.median(extents)))
    return heights


def test_bars_are_as_tall_as_their_values(tmp_path):
    group = lambda a, b: {'<=5': {'users': 10, 'ndcg@10': {'mean': a, 'std': 0.0}},  # noqa
                          '>5': {'users': 4, 'ndcg@10': {'mean': b, 'std': 0.0}}}
    path = tmp_path / 'groups.png'
    group_bars({'base': group(0.2, 0.2), 'up': group(0.1, 0.3), 'down': group(0.3, 0.1)},
               'ndcg@10', path)
    up, down = (_bar_heights(_mask(path, c)) for c in COLOURS[1:3])
    assert len(up) == len(down) == 2
    assert up[1] / up[0] == pytest.approx(3, rel=0.05)
    assert down[0] / down[1] == pytest.approx(3, rel=0.05)
    assert up[0] == pytest.approx(down[1], abs=2)


def _line_rows(mask: np.ndarray):
    r"""``(columns, row)``: the median row of a line's pixels in each column it crosses
    (rows count down from the top)."""
    columns = np.flatnonzero(mask.any(0))
    return columns, np.array([np.median(np.flatnonzero(mask[:, c])) for c in columns])


def test_curves_rise_and_fall_as_their_values(tmp_path):
    from scipy.stats import spearmanr
    x = np.linspace(0.1, 0.3, 40)
    path = tmp_path / 'curves.png'
    curves({'first': {'1': [0.1] * 40}, 'rising': {'1': list(x)},
            'falling': {'1': list(x[::-1])}, 'flat': {'1': [0.2] * 40}},
           path, 'epoch', 'ndcg@10', 'test')
    for colour, sign in ((COLOURS[1], -1), (COLOURS[2], 1)):
        columns, rows = _line_rows(_mask(path, colour))
        assert sign * spearmanr(columns, rows).statistic > 0.9
    _, rows = _line_rows(_mask(path, COLOURS[3]))
    assert np.mean(np.abs(rows - np.median(rows)) <= 2) > 0.9  # horizontal


def test_titles_name_the_setting_and_one_seed_draws_no_error_bars(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    from pyg_llminit.experiment.plots import validation_curves
    drawn = {'titles': [], 'yerr': [], 'dots': 0}
    set_title, bar, plot = Axes.set_title, Axes.bar, Axes.plot

    def title(self, text, *args, **kwargs):
        assert max(map(len, text.split('\n'))) <= 80  # wrapped to the figure's width
        drawn['titles'].append(' '.join(text.split()))
        return set_title(self, text, *args, **kwargs)

    def bars(self, *args, yerr=None, **kwargs):
        drawn['yerr'].append(yerr)
        return bar(self, *args, yerr=yerr, **kwargs)

    def lines(self, *args, **kwargs):
        drawn['dots'] += len(args) > 2 and args[2] == 'o'
        return plot(self, *args, **kwargs)
    monkeypatch.setattr(Axes, 'set_title', title)
    monkeypatch.setattr(Axes, 'bar', bars)
    monkeypatch.setattr(Axes, 'plot', lines)
    one = {'a': {'<=5': {'users': 3, 'ndcg@10': {'mean': 0.1, 'std': 0.0}}}}
    group_bars(one, 'ndcg@10', tmp_path / 'g.png', context='amazon, loo, lightgcn')
    assert drawn['yerr'] == [None]  # one seed: no error bars of zero height
    assert drawn['titles'][-1] == 'amazon, loo, lightgcn: test ndcg@10 per group'
    two = {'a': {'<=5': {'users': 3, 'ndcg@10': {'mean': 0.1, 'std': 0.02}}}}
    group_bars(two, 'ndcg@10', tmp_path / 'g2.png')
    assert drawn['yerr'][-1] == [0.02]
    assert drawn['titles'][-1] == 'Test ndcg@10 per group, mean over seeds, ±1 std'
    series = {'lightgcn/none': {1: [0.1, 0.2, 0.3], 2: [0.1, 0.2]}}
    validation_curves(series, 'ndcg@10', tmp_path / 'c.png', 'amazon, loo, lightgcn')
    assert drawn['titles'][-1] == ('amazon, loo, lightgcn: validation ndcg@10, mean over the '
                                   'seeds still training (dot: a seed stopped), band of ±1 std')
    assert drawn['dots'] == 1  # where seed 2 stopped
    validation_curves({'x': {1: [0.1, 0.2]}}, 'ndcg@10', tmp_path / 'c1.png')
    assert drawn['titles'][-1] == 'validation ndcg@10, one seed'
