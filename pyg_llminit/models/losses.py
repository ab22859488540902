"""Losses shared by the backbones, and the checks of their hyper-parameters."""
import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import UserInputError


def bpr_loss(pos_score: Tensor, neg_score: Tensor) -> Tensor:
    r"""Bayesian personalised ranking loss, :math:`-\log\sigma(s^+ - s^-)`, averaged over
    the batch (Rendle et al., UAI 2009)."""
    return -F.logsigmoid(pos_score - neg_score).mean()


def l2_reg(*embeddings: Tensor) -> Tensor:
    r"""LightGCN's regulariser on the ego (layer-0) embeddings of a batch:
    :math:`\frac{1}{2B}\sum \lVert e \rVert_2^2` (He et al., SIGIR 2020, Eq. 15)."""
    batch_size = embeddings[0].size(0)
    return sum(e.pow(2).sum() for e in embeddings) / (2 * batch_size)


def info_nce(view1: Tensor, view2: Tensor, tau: float) -> Tensor:
    r"""InfoNCE between two views ``[N, d]`` of the same N nodes: row ``n`` of
    :obj:`view1` must pick row ``n`` of :obj:`view2` among all N rows, on cosine
    similarities divided by :obj:`tau` (van den Oord et al., 2018; the contrastive loss of
    SGL, SimGCL and XSimGCL). Averaged over the N nodes."""
    v1, v2 = F.normalize(view1, dim=-1), F.normalize(view2, dim=-1)
    logits = v1 @ v2.t() / tau
    return F.cross_entropy(logits, torch.arange(v1.size(0), device=v1.device))


def check_positive(name: str, value: float) -> float:
    if not value > 0:
        raise UserInputError(f'{name} must be positive, got {value}')
    return float(value)


def check_non_negative(name: str, value: float) -> float:
    if not value >= 0:
        raise UserInputError(f'{name} must be non-negative, got {value}')
    return float(value)


def check_ratio(name: str, value: float) -> float:
    if not 0 <= value < 1:
        raise UserInputError(f'{name} must lie in [0, 1), got {value}')
    return float(value)


__all__ = ['bpr_loss', 'l2_reg', 'info_nce', 'check_positive', 'check_non_negative',
           'check_ratio']
