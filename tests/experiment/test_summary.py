"""Summary pieces on hand-made inputs, where the answer is known in advance."""
import pytest

from pyg_llminit.experiment.compare_markdown import _reach_cells
from pyg_llminit.experiment.summary import _reach


def _history(scores, seconds):
    return [{'epoch': e, 'seconds': s, 'val': {'ndcg@10': v}}
            for e, (v, s) in enumerate(zip(scores, seconds), 1)]


def test_time_to_reach_is_the_first_epoch_at_or_above_the_target():
    arm = _history([0.01, 0.03, 0.05, 0.04, 0.06], [2.0, 2.0, 3.0, 1.0, 1.0])
    assert _reach(arm, 0.05, 'ndcg@10') == {'epoch': 3, 'seconds': 7.0}  # ties reach
    assert _reach(arm, 0.055, 'ndcg@10') == {'epoch': 5, 'seconds': 9.0}
    assert _reach(arm, 0.07, 'ndcg@10') is None


def test_reach_cells_average_the_seeds_that_reach_and_divide_by_the_baseline():
    entry = {'reach_baseline_best': {
        '1': {'target': 0.05, 'arm': {'epoch': 3, 'seconds': 6.0},
              'baseline': {'epoch': 10, 'seconds': 20.0}},
        '2': {'target': 0.05, 'arm': {'epoch': 5, 'seconds': 10.0},
              'baseline': {'epoch': 8, 'seconds': 20.0}},
        '3': {'target': 0.06, 'arm': None, 'baseline': {'epoch': 9, 'seconds': 30.0}}}}
    # seeds 1 and 2 reach: 4 epochs, 8 s, against 20 s of their baselines: 0.40
    assert _reach_cells(entry) == ['2/3', '4', '8', '0.40']
    never = {'reach_baseline_best': {'1': {'target': 0.05, 'arm': None,
                                           'baseline': {'epoch': 4, 'seconds': 8.0}}}}
    assert _reach_cells(never) == ['0/1', 'never', 'never', '']


@pytest.mark.parametrize('scores', [[], [0.0]])
def test_reach_of_an_empty_or_flat_history(scores):
    assert _reach(_history(scores, [1.0] * len(scores)), 0.01, 'ndcg@10') is None


def test_a_baseline_that_scored_zero_has_no_gain_and_no_crash():
    from pyg_llminit.experiment.compare_markdown import _seed_cells
    from pyg_llminit.experiment.significance import relative_gain
    assert relative_gain(0.03, 0.02) == pytest.approx(0.5)
    assert relative_gain(0.03, 0.0) is None
    arms = {'m/none': {'baseline': 'm/none', 'per_seed': {'1': {'ndcg@10': 0.0},
                                                          '2': {'ndcg@10': 0.02}}},
            'm/variance': {'baseline': 'm/none', 'per_seed': {'1': {'ndcg@10': 0.01},
                                                              '2': {'ndcg@10': 0.03}},
                           'seed_paired': {'ndcg@10': None}}}
    assert _seed_cells('m/variance', arms, [1, 2], 'ndcg@10') == [
        '0.0100 (n/a)', '0.0300 (+50.0%)', '1/2', '-']


def test_the_seed_test_against_a_hand_computed_paired_t():
    import math
    import statistics

    from scipy.stats import t as student_t

    from pyg_llminit.experiment.significance import SEED_TEST, seed_test
    arm, base = [0.0268, 0.0270, 0.0266], [0.0247, 0.0250, 0.0244]
    diff = [a - b for a, b in zip(arm, base)]
    t = statistics.fmean(diff) / (statistics.stdev(diff) / math.sqrt(3))
    got = seed_test(arm, base)
    assert got['test'] == SEED_TEST and got['seeds'] == 3
    assert got['mean_difference'] == pytest.approx(statistics.fmean(diff))
    assert got['t'] == pytest.approx(t)
    assert got['p'] == pytest.approx(2 * student_t.sf(abs(t), 2))
    assert seed_test([0.1], [0.2]) is None  # one seed: nothing to test
    same = seed_test([0.5, 0.75], [0.25, 0.5])  # the same difference twice: no spread
    assert same['mean_difference'] == 0.25 and same['p'] is None
    with pytest.raises(ValueError, match='one baseline value per seed'):
        seed_test([0.1, 0.2], [0.1])
