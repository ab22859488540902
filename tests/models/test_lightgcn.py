import pytest
import torch

from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.errors import UserInputError
from pyg_llminit.models import LightGCN, build_model, normalized_adjacency
from pyg_llminit.training.sampling import NegativeSampler
from pyg_llminit.transforms.split import LeaveOneOutSplit


def test_normalized_adjacency_matches_dense_formula():
    train = torch.tensor([[0, 0, 1, 2], [0, 1, 1, 1]])
    adj = normalized_adjacency(train, 3, 2).to_dense()
    a = torch.zeros(5, 5)
    a[train[0], train[1] + 3] = 1
    a = a + a.t()
    deg = a.sum(1)
    inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    assert torch.allclose(adj, inv[:, None] * a * inv[None, :])
    assert torch.allclose(adj, adj.t())


def test_forward_matches_pyg_lgconv_with_normalisation(small_graph):
    # Our pre-normalised propagation == PyG's LightGCN re-normalising on every call.
    from torch_geometric.nn import LightGCN as PyGLightGCN
    train, _, _ = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    model = LightGCN(nu, ni, embedding_dim=8, num_layers=3)
    reference = PyGLightGCN(nu + ni, 8, 3)
    reference.embedding.weight.data.copy_(model.embedding.weight.data)
    ei = train[EDGE_TYPE].edge_index.clone()
    ei[1] += nu
    ei = torch.cat([ei, ei.flip(0)], 1)
    want = reference.get_embedding(ei)
    users, items = model(normalized_adjacency(train[EDGE_TYPE].edge_index, nu, ni))
    assert torch.allclose(torch.cat([users, items]), want, atol=1e-6)


def test_loss_falls_and_gradients_reach_embeddings(small_graph):
    torch.manual_seed(0)
    train, _, _ = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    index = train[EDGE_TYPE].edge_index
    adj = normalized_adjacency(index, nu, ni)
    model = LightGCN(nu, ni, embedding_dim=16)
    assert repr(model) == f'LightGCN({nu}, {ni}, dim=16, num_layers=2)'
    sampler = NegativeSampler(index, ni)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for step in range(30):
        neg = sampler.sample(index[0], gen)
        loss, parts = model.loss(adj, index[0], index[1], neg)
        opt.zero_grad()
        loss.backward()
        if step == 0:
            assert model.embedding.weight.grad.abs().sum(1).gt(0).all()
            assert parts['reg'] > 0 and parts['bpr'] > 0
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_init_from_x_lands_in_the_right_rows():
    model = LightGCN(3, 4, embedding_dim=5)
    user_x, item_x = torch.randn(3, 5), torch.randn(4, 5)
    model.init_from_x(user_x, item_x)
    users, items = model.ego_embeddings()
    assert torch.equal(users, user_x) and torch.equal(items, item_x)
    with pytest.raises(ValueError, match=r'item x has shape \(4, 6\)'):
        model.init_from_x(None, torch.randn(4, 6))
    model.reset_parameters()
    assert not torch.equal(model.ego_embeddings()[0], user_x)


def test_build_model_unknown_name():
    with pytest.raises(UserInputError, match="unknown model 'gcmc'"):
        build_model('gcmc', 2, 2)


def test_negative_sampler_never_returns_a_training_positive():
    train = torch.tensor([[0, 0, 0, 1], [0, 1, 2, 0]])
    sampler = NegativeSampler(train, 4)
    gen = torch.Generator().manual_seed(0)
    neg = sampler.sample(torch.zeros(1000, dtype=torch.long), gen)
    assert neg.eq(3).all()  # user 0 knows items 0, 1, 2
    neg = sampler.sample(torch.ones(1000, dtype=torch.long), gen)
    assert set(neg.tolist()) == {1, 2, 3}


@pytest.mark.parametrize('num_layers', [0, 1, 3])
def test_batch_restricted_propagation_equals_full(small_graph, num_layers):
    # The training path propagates the last layer for the batch rows only; loss and
    # gradients must equal those of the full propagation.
    torch.manual_seed(0)
    train, _, _ = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    index = train[EDGE_TYPE].edge_index
    adj = normalized_adjacency(index, nu, ni)
    model = LightGCN(nu, ni, embedding_dim=8, num_layers=num_layers)
    user, pos = index[:, :50]
    neg = NegativeSampler(index, ni).sample(user, torch.Generator().manual_seed(1))
    loss, _ = model.loss(adj, user, pos, neg)
    loss.backward()
    grad = model.embedding.weight.grad.clone()
    model.zero_grad()
    users, items = model(adj)  # full propagation, then gather
    u = users[user]
    from pyg_llminit.models.losses import bpr_loss, l2_reg
    ego_u, ego_i = model.ego_embeddings()
    full = bpr_loss((u * items[pos]).sum(-1), (u * items[neg]).sum(-1)) + \
        model.reg_weight * l2_reg(ego_u[user], ego_i[pos], ego_i[neg])
    full.backward()
    assert torch.allclose(loss, full, atol=1e-6)
    assert torch.allclose(grad, model.embedding.weight.grad, atol=1e-6)


def test_negative_sampler_excluding_only_the_positive_may_return_seen_items():
    # RecBole's RepeatableSampler: the negative differs from the triplet's positive only.
    index = torch.tensor([[0, 0, 0, 1], [0, 1, 2, 3]])
    sampler = NegativeSampler(index, 5, exclude='positive')
    gen = torch.Generator().manual_seed(0)
    user, pos = torch.zeros(2000, dtype=torch.long), torch.full((2000,), 1)
    neg = sampler.sample(user, gen, pos)
    assert (neg != 1).all()
    assert set(neg.tolist()) == {0, 2, 3, 4}  # seen items 0 and 2 included
    with pytest.raises(ValueError, match='needs pos'):
        sampler.sample(user, gen)


def test_negative_sampler_rejects_a_user_who_knows_every_item():
    with pytest.raises(UserInputError, match='every item'):
        NegativeSampler(torch.tensor([[0, 0], [0, 1]]), 2)


@pytest.mark.parametrize('num_layers', [0, 1, 2, 3])
def test_fused_layer_rows_match_dense_powers_and_pass_gradcheck(num_layers):
    # Rows of X, AX, ..., A^L X (the last product restricted to the rows) against dense
    # matrix powers; its hand-written backward against finite differences (float64).
    gen = torch.Generator().manual_seed(0)
    pairs = torch.unique(torch.stack([torch.randint(0, 6, (20,), generator=gen),
                                      torch.randint(0, 5, (20,), generator=gen)]), dim=1)
    adj = normalized_adjacency(pairs, 6, 5)
    adj.adj = adj.adj.to(torch.float64)
    rows = torch.tensor([0, 2, 7, 10])
    x = torch.randn(11, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    layers = adj.propagate_layer_rows(x, num_layers, rows)
    dense, h = adj.to_dense(), x
    assert len(layers) == num_layers + 1
    for layer in layers:
        assert torch.allclose(layer, h[rows])
        h = dense @ h
    assert torch.autograd.gradcheck(
        lambda x: torch.stack(adj.propagate_layer_rows(x, num_layers, rows)), (x,))


@pytest.mark.parametrize('name, num_layers', [('lightgcn', 2), ('lightgcn', 0), ('mf', 0)])
def test_loss_terms_match_a_hand_computation(name, num_layers):
    r"""BPR ``mean(-log sigmoid(u.p - u.n))`` on the layer-mean of the dense normalised
    adjacency's powers (He et al., SIGIR 2020, Eq. 8-9) and L2 ``lambda / (2B) *
    sum ||e0||^2`` over the batch's ego rows (Eq. 15), from numpy, not the package's
    helpers."""
    import numpy as np
    users, items = torch.tensor([0, 0, 1, 2, 2, 3]), torch.tensor([0, 1, 1, 2, 3, 0])
    nu, ni, reg = 4, 4, 0.3
    torch.manual_seed(0)
    kwargs = {} if name == 'mf' else {'num_layers': num_layers}
    model = build_model(name, nu, ni, embedding_dim=5, reg_weight=reg, **kwargs)
    adj = normalized_adjacency(torch.stack([users, items]), nu, ni)
    user, pos, neg = torch.tensor([0, 2, 2]), torch.tensor([1, 3, 2]), torch.tensor([3, 1, 0])
    _, parts = model.loss(adj, user, pos, neg)
    ego = model.embedding.weight.detach().double().numpy()
    a = np.zeros((nu + ni, nu + ni))
    a[users, nu + items] = a[nu + items, users] = 1
    d = a.sum(1)
    d_inv = np.where(d > 0, d ** -0.5, 0.0)
    norm = d_inv[:, None] * a * d_inv[None, :]
    layers = [ego]
    for _ in range(num_layers):
        layers.append(norm @ layers[-1])
    final = np.mean(layers, axis=0)
    u, p, n = final[user], final[nu + pos], final[nu + neg]
    diff = (u * p).sum(1) - (u * n).sum(1)
    bpr = np.mean(np.log1p(np.exp(-diff)))
    l2 = reg * sum((ego[rows] ** 2).sum() for rows in (user, nu + pos, nu + neg)) / (2 * 3)
    assert float(parts['bpr']) == pytest.approx(bpr, rel=1e-5)
    assert float(parts['reg']) == pytest.approx(l2, rel=1e-5)
