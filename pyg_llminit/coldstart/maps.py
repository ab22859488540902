"""Maps from an item's text embedding to the item embedding a trained recommender scores
with, learned on the items it was trained on and applied to items it has never seen.

A trained backbone scores user ``u`` and item ``i`` by ``<h_u, h_i>`` with the final
(propagated) tables ``h``. A new item has text but no ``h_i``; a map ``f`` fitted on the
warm items, ``f(t_i) ~ h_i``, gives it one (the idea of DropoutNet-style cold-start
mappings, Volkovs et al., NeurIPS 2017, here in its simplest closed form).
"""
from typing import Union

import torch
from torch import Tensor, nn

from ..errors import invalid

MAPS = ('ridge', 'mlp')


class RidgeMap:
    r"""Ridge regression with an intercept, in closed form:
    :math:`W = (X_c^\top X_c + \alpha I)^{-1} X_c^\top Y_c`, :math:`b = \bar y - \bar x W`
    on the centred inputs :math:`X_c` and targets :math:`Y_c` (float64).

    Args:
        alpha (float): The ridge penalty (the text embeddings of the presets are unit
            vectors, so the Gram matrix's scale is about ``N / D``). (default: :obj:`1.0`)
    """
    def __init__(self, alpha: float = 1.0) -> None:
        if not alpha >= 0:
            raise invalid('ridge_alpha', f'must be >= 0, got {alpha}')
        self.alpha = float(alpha)
        self.weight: Union[Tensor, None] = None
        self.bias: Union[Tensor, None] = None

    def fit(self, text: Tensor, target: Tensor) -> 'RidgeMap':
        r"""Fits ``text [N, D] -> target [N, d]``; returns itself."""
        x, y = text.double().cpu(), target.double().cpu()
        x_mean, y_mean = x.mean(0), y.mean(0)
        xc, yc = x - x_mean, y - y_mean
        gram = xc.T @ xc + self.alpha * torch.eye(x.size(1), dtype=x.dtype)
        self.weight = torch.linalg.solve(gram, xc.T @ yc)
        self.bias = y_mean - x_mean @ self.weight
        return self

    def __call__(self, text: Tensor) -> Tensor:
        r"""Mapped embeddings ``[M, d]`` of texts ``[M, D]`` (float32)."""
        if self.weight is None:
            raise RuntimeError('RidgeMap.fit must be called first')
        return (text.double().cpu() @ self.weight + self.bias).float()

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(alpha={self.alpha:g})'


class MLPMap:
    r"""A two-layer perceptron ``D -> hidden -> d`` (ReLU) fitted by mini-batch Adam on the
    mean squared error, for maps a linear one cannot express.

    Args:
        hidden (int): Hidden width. (default: :obj:`256`)
        epochs (int): Passes over the items. (default: :obj:`20`)
        batch_size (int): Items per step. (default: :obj:`256`)
        lr (float): Adam learning rate. (default: :obj:`1e-3`)
        weight_decay (float): Adam weight decay. (default: :obj:`1e-4`)
        seed (int): Seed of the initial weights and the shuffling. (default: :obj:`0`)
    """
    def __init__(self, hidden: int = 256, epochs: int = 20, batch_size: int = 256,
                 lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0) -> None:
        self.hidden, self.epochs, self.batch_size, self.lr = hidden, epochs, batch_size, lr
        self.weight_decay, self.seed = weight_decay, seed
        self.net: Union[nn.Module, None] = None

    def fit(self, text: Tensor, target: Tensor) -> 'MLPMap':
        r"""Fits ``text [N, D] -> target [N, d]``; returns itself."""
        x, y = text.float().cpu(), target.float().cpu()
        generator = torch.Generator().manual_seed(self.seed)
        state = torch.random.get_rng_state()  # nn.Linear draws its own init: put it back
        self.net = nn.Sequential(nn.Linear(x.size(1), self.hidden), nn.ReLU(),
                                 nn.Linear(self.hidden, y.size(1)))
        torch.random.set_rng_state(state)
        for layer in (self.net[0], self.net[2]):  # seeded here: the caller's RNG untouched
            bound = 1 / x.size(1) ** 0.5 if layer is self.net[0] else 1 / self.hidden ** 0.5
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
        optimizer = torch.optim.Adam(self.net.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        with torch.enable_grad():
            for _ in range(self.epochs):
                for rows in torch.randperm(x.size(0), generator=generator).split(
                        self.batch_size):
                    optimizer.zero_grad()
                    nn.functional.mse_loss(self.net(x[rows]), y[rows]).backward()
                    optimizer.step()
        self.net.eval()
        return self

    @torch.no_grad()
    def __call__(self, text: Tensor) -> Tensor:
        r"""Mapped embeddings ``[M, d]`` of texts ``[M, D]``."""
        if self.net is None:
            raise RuntimeError('MLPMap.fit must be called first')
        return self.net(text.float().cpu())

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(hidden={self.hidden}, epochs={self.epochs})'


def make_map(kind: str, seed: int = 0, alpha: float = 1.0) -> Union[RidgeMap, MLPMap]:
    r"""A fresh map of :obj:`kind` (``'ridge'`` or ``'mlp'``)."""
    if kind == 'ridge':
        return RidgeMap(alpha)
    if kind == 'mlp':
        return MLPMap(seed=seed)
    raise invalid('cold_map', f"must be one of {', '.join(MAPS)}, got '{kind}'")


def fit_on_warm_items(kind: str, text: Tensor, item_table: Tensor, train_index: Tensor,
                      seed: int = 0) -> Union[RidgeMap, MLPMap]:
    r"""A map of :obj:`kind` fitted on the items with training interactions: their texts
    ``text [I, D]`` -> their rows of the trained ``item_table [I, d]``."""
    degree = torch.bincount(train_index[1], minlength=item_table.size(0))
    warm = (degree > 0).nonzero().view(-1)
    return make_map(kind, seed).fit(text[warm], item_table[warm])
