"""Losses shared by the backbones, and the checks of their hyper-parameters."""
from typing import Optional

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


def _first_derivative_only(name: str) -> None:
    r"""Refuses ``create_graph=True`` in a hand-written backward (autograd turns grad mode
    on there only then): the saved softmax is a constant to autograd, so a second
    derivative would come out silently wrong."""
    if torch.is_grad_enabled():
        raise RuntimeError(f'{name} has no second derivative: its backward is hand-written '
                           '(do not differentiate it with create_graph=True)')


class _InfoNCE(torch.autograd.Function):
    r"""InfoNCE on L2-normalised anchors ``v1`` ``[N, d]`` and candidates ``v2`` ``[M, d]``
    (see :func:`info_nce`), with a hand-written backward.

    The ``[N, M]`` logits become the softmax in place and are kept for the backward, whose
    gradient is ``(P - onehot) / (N tau)`` times the other factor: three ``N x M x d``
    products as autograd's, but four fewer passes over (and allocations of) the ``[N, M]``
    matrix, which with SGL's all-node negatives is ``2048 x 22,363`` per step."""
    @staticmethod
    def forward(ctx, v1: Tensor, v2: Tensor, tau: float,  # type: ignore[override]
                target: Tensor) -> Tensor:
        prob = torch.mm(v1, v2.t()).div_(tau)  # the logits, turned into P below
        positive = prob.gather(1, target[:, None]).squeeze(1)
        row_max = prob.amax(dim=1, keepdim=True)  # keeps exp finite for any tau
        total = prob.sub_(row_max).exp_().sum(dim=1, keepdim=True)
        lse = (row_max + total.log()).squeeze(1)
        prob.div_(total)
        ctx.save_for_backward(v1, v2, prob, target)
        ctx.tau = tau
        return (lse - positive).mean()

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        _first_derivative_only('info_nce')
        v1, v2, prob, target = ctx.saved_tensors
        scale = grad / (v1.size(0) * ctx.tau)
        grad_v1 = grad_v2 = None  # (P - onehot) times each factor; P stays as saved
        if ctx.needs_input_grad[0]:
            grad_v1 = (prob @ v2).sub_(v2.index_select(0, target)).mul_(scale)
        if ctx.needs_input_grad[1]:  # index_add_ sums the anchors that share a target
            grad_v2 = (prob.t() @ v1).index_add_(0, target, v1, alpha=-1).mul_(scale)
        return grad_v1, grad_v2, None, None


def info_nce(view1: Tensor, view2: Tensor, tau: float,
             target: Optional[Tensor] = None) -> Tensor:
    r"""InfoNCE (van den Oord et al., 2018; the contrastive loss of SGL, SimGCL and
    XSimGCL) on cosine similarities divided by :obj:`tau`, averaged over the anchors:

    .. math::
        -\frac{1}{N}\sum_n \log \frac{\exp(\hat v^1_n{}^\top \hat v^2_{t_n} / \tau)}
        {\sum_m \exp(\hat v^1_n{}^\top \hat v^2_m / \tau)}

    Equal to ``F.cross_entropy`` on the logits (tests compare values and gradients), at
    about 0.6x its time on the CPU for SGL's all-node negatives (:class:`_InfoNCE`).

    Args:
        view1 (Tensor): Anchors ``[N, d]``.
        view2 (Tensor): Candidates ``[M, d]`` from the other view.
        tau (float): Temperature.
        target (Tensor, optional): Each anchor's positive, a row of :obj:`view2` ``[N]``;
            ``None``: the same row (``M == N``: the other rows are the negatives).
    """
    v1, v2 = F.normalize(view1, dim=-1), F.normalize(view2, dim=-1)
    if target is None:
        target = torch.arange(v1.size(0), device=v1.device)
    return _InfoNCE.apply(v1, v2, tau, target)


class _SupervisedContrastive(torch.autograd.Function):
    r"""SGCL's loss on L2-normalised users ``u`` and items ``i`` ``[B, d]`` (see
    :func:`supervised_contrastive_loss`), with a hand-written backward.

    ``u u^T`` and ``i i^T`` are symmetric, so the gradient of each is one product
    ``(G + G^T) u`` instead of autograd's two (one per factor); the softmax of the forward
    is kept instead of exponentiating again; no ``[B, 2B]`` concatenation is built."""
    @staticmethod
    def forward(ctx, u: Tensor, i: Tensor, tau: float) -> Tensor:  # type: ignore[override]
        sim_u, sim_i = (u @ u.t()).div_(tau), (i @ i.t()).div_(tau)
        lse = torch.logaddexp(torch.logsumexp(sim_u, dim=1), torch.logsumexp(sim_i, dim=1))
        positive = (u * i).sum(-1) / tau
        prob_u = sim_u.sub_(lse[:, None]).exp_()  # softmax over the row's 2B similarities
        prob_i = sim_i.sub_(lse[:, None]).exp_()
        ctx.save_for_backward(u, i, prob_u, prob_i)
        ctx.tau = tau
        return (lse - positive).mean()

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        _first_derivative_only('supervised_contrastive_loss')
        u, i, prob_u, prob_i = ctx.saved_tensors
        scale = grad / (u.size(0) * ctx.tau)
        # (P + P^T) @ u: a contiguous copy of the transpose plus an in-place add is 4x faster on
        # the CPU than adding a transposed view, and cheaper than a second product
        grad_u = prob_u.t().clone(memory_format=torch.contiguous_format).add_(prob_u) @ u
        grad_i = prob_i.t().clone(memory_format=torch.contiguous_format).add_(prob_i) @ i
        return (grad_u.sub_(i).mul_(scale), grad_i.sub_(u).mul_(scale), None)


def supervised_contrastive_loss(u: Tensor, i: Tensor, tau: float) -> Tensor:
    r"""SGCL's supervised graph contrastive loss (Zhang et al., RecSys 2025, arXiv
    2507.13336) on L2-normalised users and items ``[B, d]`` of B interactions:

    .. math::
        -\frac{1}{B}\sum_{b} \log
        \frac{\exp(u_b^\top i_b / \tau)}
             {\sum_{b'} \exp(u_b^\top u_{b'} / \tau) + \sum_{b'} \exp(i_b^\top i_{b'} / \tau)}

    Equal to the plain autograd formula (tests compare values and gradients), with four
    ``B x B x d`` products per step instead of six."""
    return _SupervisedContrastive.apply(u, i, tau)


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


__all__ = ['bpr_loss', 'l2_reg', 'info_nce', 'supervised_contrastive_loss', 'check_positive',
           'check_non_negative', 'check_ratio']
