"""Early stopping on synthetic validation curves: where each one stops."""
import math

import pytest

from pyg_llminit.training.stopping import EarlyStopping


def stop_epoch(curve, **kwargs):
    stopping = EarlyStopping(max_epochs=len(curve), **kwargs)
    for epoch, score in enumerate(curve, start=1):
        if stopping.update(epoch, score):
            break
    return stopping


def rise_dip_climb():
    r"""A random-init LightGCN's shape: up for 2 epochs, down for 15, then a slow climb
    that passes the early peak only at epoch 82 and peaks at epoch 150."""
    curve = [0.030, 0.035]
    curve += [0.035 - 0.0008 * i for i in range(1, 16)]
    curve += [0.023 + 0.015 * (1 - math.exp(-i / 40)) for i in range(1, 300)]
    peak = max(range(150), key=lambda i: curve[i])
    curve = curve[:peak + 1] + [curve[peak] - 0.0001 * i for i in range(1, 200)]
    return curve, peak + 1


def test_an_early_dip_does_not_stop_the_run():
    curve, peak = rise_dip_climb()
    # past warm-up + patience (epoch 40) the early peak is still the best: only the
    # climbing rule keeps the run going
    assert next(e for e, s in enumerate(curve[2:], start=3) if s > curve[1]) == 82
    stopping = stop_epoch(curve, patience=10, warmup=30)
    assert stopping.best_epoch == peak and stopping.last_epoch == peak + 10
    assert stopping.warnings() == []
    # without a warm-up, patience 10 stops in the dip at epoch 12, best epoch 2
    cut = stop_epoch(curve, patience=10, warmup=0)
    assert (cut.best_epoch, cut.last_epoch) == (2, 12)
    assert 'first 10%' not in ' '.join(cut.warnings())  # 2 of 12 epochs: not under 10%


def test_a_flat_curve_stops_after_warmup_plus_patience():
    stopping = stop_epoch([0.02] * 100, patience=10, warmup=30)
    assert (stopping.best_epoch, stopping.last_epoch) == (1, 40)
    assert stopping.warnings() and 'first 10%' in stopping.warnings()[0]


def test_a_noisy_plateau_stops_patience_after_its_best():
    curve = [0.01 * min(e, 50) for e in range(1, 51)]
    curve += [0.5 + (0.001 if e % 3 == 0 else -0.001) for e in range(1, 200)]
    stopping = stop_epoch(curve, patience=10, warmup=30)
    assert stopping.best_epoch == 53  # the first plateau epoch above 0.50
    assert stopping.last_epoch == 63


def test_hitting_the_cap_while_improving_is_a_warning():
    stopping = stop_epoch([0.001 * e for e in range(1, 51)], patience=10, warmup=5)
    assert stopping.last_epoch == 50 == stopping.best_epoch
    assert any('epoch cap (50) while still improving' in w for w in stopping.warnings())


@pytest.mark.parametrize('warmup, expected', [(0, 11), (5, 15), (30, 40)])
def test_the_earliest_stop_is_warmup_plus_patience(warmup, expected):
    assert stop_epoch([0.5] * 100, patience=10, warmup=warmup).last_epoch == expected


def test_recbole_counting_lets_ties_reset_patience_and_waits_one_epoch_more():
    # RecBole's early_stopping: value >= best resets the count; stop when it exceeds
    # stopping_step, i.e. at the (patience + 1)-th epoch without a new best.
    curve = [0.1, 0.2, 0.2, 0.15] + [0.1] * 30
    strict = stop_epoch(curve, patience=5, warmup=0)
    recbole = stop_epoch(curve, patience=5, warmup=0, counting='recbole')
    assert (strict.best_epoch, strict.last_epoch) == (2, 7)
    assert (recbole.best_epoch, recbole.last_epoch) == (3, 9)
    # the warm-up guard applies to both countings
    assert stop_epoch(curve, patience=5, warmup=20, counting='recbole').last_epoch == 26


def test_unknown_counting_names_the_parameter():
    from pyg_llminit.errors import UserInputError
    with pytest.raises(UserInputError, match="stopping must be one of strict, recbole, smoothed"):
        EarlyStopping(counting='keras')


def noisy_rise(seed):
    r"""A small validation set's curve: a steady rise for 200 epochs, then flat, under
    epoch-to-epoch noise as large as eight epochs of progress (MovieLens-100K-like)."""
    import random
    rng = random.Random(seed)
    return [0.035 + 0.0003 * min(e, 200) + rng.gauss(0, 0.0025) for e in range(1, 400)]


def test_smoothed_counting_is_not_stopped_by_one_lucky_epoch():
    strict = [stop_epoch(noisy_rise(s), patience=10, warmup=30).last_epoch
              for s in range(10)]
    smoothed = [stop_epoch(noisy_rise(s), patience=10, warmup=30, counting='smoothed')
                for s in range(10)]
    assert sum(e < 200 for e in strict) == 10  # every strict run stops on the rise
    assert sorted(strict)[5] < 100
    assert sum(s.last_epoch > 200 for s in smoothed) >= 8  # most reach the plateau
    for s, seed in zip(smoothed, range(10)):  # the kept weights: the best raw epoch
        curve = noisy_rise(seed)[:s.last_epoch]
        assert s.best_epoch == 1 + max(range(len(curve)), key=curve.__getitem__)


def test_smoothed_counting_changes_little_on_clean_curves():
    curve, peak = rise_dip_climb()
    stopping = stop_epoch(curve, patience=10, warmup=30, counting='smoothed')
    assert stopping.best_epoch == peak and peak + 10 <= stopping.last_epoch <= peak + 12
    assert stop_epoch([0.02] * 100, patience=10, warmup=30,
                      counting='smoothed').last_epoch == 40
    plateau = [0.01 * min(e, 50) for e in range(1, 51)]
    plateau += [0.5 + (0.001 if e % 3 == 0 else -0.001) for e in range(1, 200)]
    stopping = stop_epoch(plateau, patience=10, warmup=30, counting='smoothed')
    # the moving average reaches the plateau one window (10 epochs) after the curve
    assert stopping.best_epoch == 53 and stopping.last_epoch == 72


def test_smoothed_state_survives_a_checkpoint():
    first = EarlyStopping(patience=5, warmup=0, counting='smoothed')
    curve = noisy_rise(0)[:40]
    for epoch, score in enumerate(curve[:20], start=1):
        first.update(epoch, score)
    resumed = EarlyStopping(patience=5, warmup=0, counting='smoothed')
    resumed.load_state_dict(first.state_dict())
    for epoch, score in enumerate(curve[20:], start=21):
        assert first.update(epoch, score) == resumed.update(epoch, score)
    assert first.state_dict() == resumed.state_dict()


@pytest.mark.parametrize('counting', ['strict', 'recbole', 'smoothed'])
@pytest.mark.parametrize('cut', [5, 25, 60])
def test_every_counting_resumes_from_a_checkpoint_as_if_never_stopped(counting, cut):
    r"""A run killed after epoch :obj:`cut` and resumed from ``last.pt``'s stopping state
    stops at the same epoch, keeps the same best and warns alike (the curve rises, dips
    for 15 epochs, then climbs: warm-up and patience are counted across the cut)."""
    curve, _ = rise_dip_climb()
    whole = stop_epoch(curve, patience=10, warmup=30, counting=counting)
    assert cut < whole.last_epoch
    first = EarlyStopping(patience=10, warmup=30, max_epochs=len(curve), counting=counting)
    for epoch, score in enumerate(curve[:cut], start=1):
        assert not first.update(epoch, score)
    resumed = EarlyStopping(patience=10, warmup=30, max_epochs=len(curve), counting=counting)
    resumed.load_state_dict(first.state_dict())
    for epoch, score in enumerate(curve[cut:], start=cut + 1):
        if resumed.update(epoch, score):
            break
    assert (resumed.last_epoch, resumed.best_epoch, resumed.best_score) == \
        (whole.last_epoch, whole.best_epoch, whole.best_score)
    assert resumed.warnings() == whole.warnings()


def test_a_checkpoint_from_before_smoothed_counting_still_loads():
    old = EarlyStopping(patience=5, warmup=0)
    for epoch, score in enumerate([0.1, 0.2, 0.15], start=1):
        old.update(epoch, score)
    state = old.state_dict()
    del state['best_smoothed'], state['best_smoothed_epoch']  # as written before them
    resumed = EarlyStopping(patience=5, warmup=0)
    resumed.load_state_dict(state)
    assert (resumed.best_epoch, resumed.best_score, resumed.last_epoch) == (2, 0.2, 3)
    assert [resumed.update(e, 0.1) for e in range(4, 8)] == [False, False, False, True]
