import numpy as np
import pytest
import torch

from pyg_llminit.coldstart import MLPMap, RidgeMap, make_map
from pyg_llminit.errors import UserInputError


def _ridge_numpy(x, y, alpha):
    # independent: least squares on [X, 1] with the penalty on W only, via the normal
    # equations of the augmented system
    xa = np.hstack([x, np.ones((x.shape[0], 1))])
    penalty = alpha * np.eye(xa.shape[1])
    penalty[-1, -1] = 0.0
    return np.linalg.solve(xa.T @ xa + penalty, xa.T @ y)


def test_ridge_matches_an_independent_solution():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 12, generator=gen), torch.randn(200, 5, generator=gen)
    for alpha in (0.0, 1.0, 25.0):
        fitted = RidgeMap(alpha).fit(x, y)
        coef = _ridge_numpy(x.double().numpy(), y.double().numpy(), alpha)
        assert np.allclose(fitted.weight.numpy(), coef[:-1], atol=1e-8)
        assert np.allclose(fitted.bias.numpy(), coef[-1], atol=1e-8)
        new = torch.randn(7, 12, generator=gen)
        expected = np.hstack([new.double().numpy(), np.ones((7, 1))]) @ coef
        assert np.allclose(fitted(new).numpy(), expected, atol=1e-5)
    assert repr(RidgeMap(2)) == 'RidgeMap(alpha=2)'


def test_ridge_recovers_a_linear_map():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(500, 8, generator=gen)
    w, b = torch.randn(8, 3, generator=gen), torch.randn(3, generator=gen)
    fitted = RidgeMap(1e-8).fit(x, x @ w + b)
    assert torch.allclose(fitted.weight.float(), w, atol=1e-4)
    assert torch.allclose(fitted.bias.float(), b, atol=1e-4)


def test_mlp_fits_what_a_linear_map_cannot_and_is_seeded():
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(400, 4, generator=gen) * 4 - 2
    y = torch.stack([torch.sin(2 * x[:, 0]), x[:, 1] ** 2], 1)
    state = torch.random.get_rng_state()
    mlp = MLPMap(hidden=64, epochs=300, batch_size=64, lr=3e-3, seed=5).fit(x, y)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG untouched
    mse = lambda pred: float(((pred - y) ** 2).mean())  # noqa: E731
    assert mse(mlp(x)) < 0.5 * mse(RidgeMap(0.0).fit(x, y)(x))
    again = MLPMap(hidden=64, epochs=300, batch_size=64, lr=3e-3, seed=5).fit(x, y)
    assert torch.equal(mlp(x), again(x))
    assert repr(mlp) == 'MLPMap(hidden=64, epochs=300)'


def test_maps_must_be_fitted_and_known():
    with pytest.raises(RuntimeError, match='fit must be called first'):
        RidgeMap()(torch.zeros(1, 2))
    with pytest.raises(UserInputError, match="cold_map must be one of ridge, mlp, got 'knn'"):
        make_map('knn')
    with pytest.raises(UserInputError, match='ridge_alpha must be >= 0'):
        RidgeMap(-1)
