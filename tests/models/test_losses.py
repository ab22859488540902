import pytest
import torch
import torch.nn.functional as F

from pyg_llminit.models.losses import supervised_contrastive_loss


def plain_sgcl(u, i, tau):
    r"""SGCL's loss as written in the paper, differentiated by autograd."""
    positive = (u * i).sum(-1) / tau
    negatives = torch.cat([u @ u.t(), i @ i.t()], dim=1) / tau
    return (torch.logsumexp(negatives, dim=1) - positive).mean()


@pytest.mark.parametrize('batch, tau', [(1, 0.2), (7, 0.2), (64, 0.05)])
def test_supervised_contrastive_loss_matches_the_autograd_formula(batch, tau):
    gen = torch.Generator().manual_seed(batch)
    raw_u = torch.randn(batch, 16, generator=gen, dtype=torch.float64, requires_grad=True)
    raw_i = torch.randn(batch, 16, generator=gen, dtype=torch.float64, requires_grad=True)
    upstream = torch.tensor(1.7, dtype=torch.float64)  # a weight on the loss reaches grads
    values, grads = [], []
    for loss_fn in (supervised_contrastive_loss, plain_sgcl):
        u, i = F.normalize(raw_u, dim=-1), F.normalize(raw_i, dim=-1)
        loss = loss_fn(u, i, tau)
        gu, gi = torch.autograd.grad(loss * upstream, [raw_u, raw_i])
        values.append(loss.item())
        grads.append((gu, gi))
    assert values[0] == pytest.approx(values[1], rel=1e-12)
    for fused, plain in zip(*grads):
        torch.testing.assert_close(fused, plain, rtol=1e-10, atol=1e-12)
    u, i = F.normalize(raw_u, dim=-1), F.normalize(raw_i, dim=-1)
    assert torch.autograd.gradcheck(lambda a, b: supervised_contrastive_loss(a, b, tau),
                                    (u.detach().requires_grad_(), i.detach().requires_grad_()))


def test_supervised_contrastive_loss_is_stable_for_a_small_temperature():
    u = F.normalize(torch.randn(32, 8), dim=-1)
    loss = supervised_contrastive_loss(u, u.clone(), 0.01)  # logits up to 100
    assert torch.isfinite(loss) and loss.item() == pytest.approx(plain_sgcl(u, u, 0.01).item(),
                                                                 rel=1e-5)
