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
