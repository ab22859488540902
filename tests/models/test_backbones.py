r"""Every backbone: shapes, a falling loss, gradients, init from x, exact batch-restricted
propagation, each loss against an independent computation, and bad hyper-parameters."""
import math

import pytest
import torch
import torch.nn.functional as F

from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.errors import UserInputError
from pyg_llminit.models import (MF, MODELS, NGCF, SGCL, SGL, LightGCN, SimGCL, XSimGCL,
                                build_model, normalized_adjacency)
from pyg_llminit.models.losses import info_nce, supervised_contrastive_loss
from pyg_llminit.training.sampling import NegativeSampler
from pyg_llminit.transforms.split import LeaveOneOutSplit

OUT_DIM = {'ngcf': 16 * 3}  # NGCF concatenates its L + 1 = 3 layers


def setup(graph, name, **kwargs):
    torch.manual_seed(0)
    train, _, _ = LeaveOneOutSplit()(graph)
    nu, ni = graph['user'].num_nodes, graph['item'].num_nodes
    index = train[EDGE_TYPE].edge_index
    adj = normalized_adjacency(index, nu, ni)
    model = build_model(name, nu, ni, embedding_dim=16, num_layers=2, **kwargs)
    return model, adj, index, NegativeSampler(index, ni)


@pytest.mark.parametrize('name', sorted(MODELS))
def test_shapes_falling_loss_and_gradients(name, small_graph):
    model, adj, index, sampler = setup(small_graph, name)
    users, items = model(adj)
    dim = OUT_DIM.get(name, 16)
    assert users.shape == (model.num_users, dim) and items.shape == (model.num_items, dim)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for step in range(40):
        model.prepare_epoch(adj, gen)
        neg = sampler.sample(index[0], gen)
        loss, parts = model.loss(adj, index[0], index[1], neg)
        assert torch.isfinite(loss) and all(torch.isfinite(v) for v in parts.values())
        opt.zero_grad()
        loss.backward()
        if step == 0:  # every node of the graph is in this batch
            assert model.embedding.weight.grad.abs().sum(1).gt(0).all()
        opt.step()
        losses.append(float(loss))
    assert sum(losses[-5:]) < 0.9 * sum(losses[:5])


@pytest.mark.parametrize('name', sorted(MODELS))
def test_init_from_x_and_repr(name):
    model = build_model(name, 3, 4, embedding_dim=5, num_layers=2)
    user_x, item_x = torch.randn(3, 5), torch.randn(4, 5)
    model.init_from_x(user_x, item_x)
    assert torch.equal(model.embedding.weight[:3], user_x)
    assert torch.equal(model.embedding.weight[3:], item_x)
    text = repr(model)
    assert '\n' not in text and text.startswith(f'{type(model).__name__}(3, 4, dim=5')
    model.reset_parameters()
    assert not torch.equal(model.embedding.weight[:3], user_x)


def test_reprs_name_their_hyper_parameters():
    assert repr(SGL(3, 4)) == ('SGL(3, 4, dim=128, num_layers=2, ssl_tau=0.2, '
                               'ssl_weight=0.05, drop_ratio=0.1)')
    assert repr(SGL(3, 4, negatives='batch')).endswith("drop_ratio=0.1, negatives='batch')")
    assert repr(SGCL(3, 4)) == 'SGCL(3, 4, dim=128, num_layers=2, tau=0.2)'
    assert repr(MF(3, 4)) == 'MF(3, 4, dim=128)'
    assert repr(NGCF(3, 4)) == 'NGCF(3, 4, dim=128, num_layers=2, message_dropout=0.1)'
    assert repr(SimGCL(3, 4)) == ('SimGCL(3, 4, dim=128, num_layers=2, cl_weight=0.5, '
                                  'eps=0.1, cl_tau=0.2)')
    assert repr(XSimGCL(3, 4)) == ('XSimGCL(3, 4, dim=128, num_layers=2, cl_weight=0.2, '
                                   'eps=0.2, cl_tau=0.15, cl_layer=1)')


@pytest.mark.parametrize('name', ['lightgcn', 'ngcf', 'sgcl', 'sgl', 'simgcl', 'xsimgcl'])
def test_batch_restricted_propagation_equals_full(name, small_graph):
    model, adj, _, _ = setup(small_graph, name)
    model.eval()  # NGCF's dropout off
    rows = torch.tensor([0, 3, 5, model.num_users + 2, model.num_users + 7])
    assert torch.allclose(model.propagate(adj, rows), model.propagate(adj)[rows], atol=1e-6)


def test_info_nce_against_the_formula():
    torch.manual_seed(0)
    a, b = torch.randn(6, 4), torch.randn(6, 4)
    an, bn = F.normalize(a, dim=1), F.normalize(b, dim=1)
    want = 0.0
    for n in range(6):
        num = math.exp(float(an[n] @ bn[n]) / 0.3)
        den = sum(math.exp(float(an[n] @ bn[m]) / 0.3) for m in range(6))
        want -= math.log(num / den) / 6
    assert float(info_nce(a, b, 0.3)) == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize('with_target', [True, False])
@pytest.mark.parametrize('tau', [0.2, 0.005])
def test_info_nce_equals_autograd_cross_entropy(with_target, tau):
    torch.manual_seed(1)
    a = torch.randn(9, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(13 if with_target else 9, 5, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 12, 3, 3, 7, 1, 12, 5, 2]) if with_target else None  # repeats
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).t() / tau
    want = F.cross_entropy(logits, torch.arange(9) if target is None else target)
    got = info_nce(a, b, tau, target)
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    wants = torch.autograd.grad(want, (a, b))
    for _ in range(2):  # a second backward over the same graph gives the same gradients
        for g, w in zip(torch.autograd.grad(got, (a, b), retain_graph=True), wants):
            assert torch.allclose(g, w, rtol=1e-10, atol=1e-12)


def test_info_nce_is_finite_in_float32_at_a_small_tau():
    torch.manual_seed(2)
    a, b = torch.randn(7, 4, requires_grad=True), torch.randn(7, 4)
    b[3] = a[3].detach()  # a cosine of 1: the logit 1/tau = 1000, far past exp's float32 range
    got, want = info_nce(a, b, 1e-3), F.cross_entropy(
        F.normalize(a, dim=1) @ F.normalize(b, dim=1).t() / 1e-3, torch.arange(7))
    assert torch.isfinite(got) and got.item() == pytest.approx(want.item(), rel=1e-4)
    assert torch.isfinite(torch.autograd.grad(got, a)[0]).all()


def test_hand_written_losses_refuse_a_second_derivative():
    a = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, 3, dtype=torch.float64)
    for name, loss in (('info_nce', info_nce(a, b, 0.2)),
                       ('supervised_contrastive_loss',
                        supervised_contrastive_loss(F.normalize(a, dim=1), b, 0.2))):
        with pytest.raises(RuntimeError, match=f'{name} has no second derivative'):
            torch.autograd.grad(loss, a, create_graph=True)


def test_sgcl_loss_against_the_papers_formula(small_graph):
    model, adj, index, _ = setup(small_graph, 'sgcl', reg_weight=0.0)
    user, pos = index[:, :12]
    loss, _ = model.loss(adj, user, pos)
    users, items = model(adj)
    u, i = F.normalize(users[user], dim=1), F.normalize(items[pos], dim=1)
    want = 0.0
    for b in range(12):
        den = sum(math.exp(float(u[b] @ u[c]) / 0.2) + math.exp(float(i[b] @ i[c]) / 0.2)
                  for c in range(12))
        want -= math.log(math.exp(float(u[b] @ i[b]) / 0.2) / den) / 12
    assert float(loss) == pytest.approx(want, rel=1e-5)
    assert not SGCL.needs_negatives


def test_sgl_views_drop_edges_and_are_redrawn(small_graph):
    model, adj, index, sampler = setup(small_graph, 'sgl', drop_ratio=0.25)
    gen = torch.Generator().manual_seed(0)
    model.prepare_epoch(adj, gen)
    v1, v2 = model.views
    kept = round(index.size(1) * 0.75)
    assert v1.train_index.size(1) == v2.train_index.size(1) == kept
    assert not torch.equal(v1.train_index, v2.train_index)
    # every kept pair is a training pair, and the view is normalised with its own degrees
    pairs = set(map(tuple, index.t().tolist()))
    assert set(map(tuple, v1.train_index.t().tolist())) <= pairs
    want = normalized_adjacency(v1.train_index, model.num_users, model.num_items)
    assert torch.allclose(v1.to_dense(), want.to_dense())
    model.prepare_epoch(adj, gen)
    assert not torch.equal(model.views[0].train_index, v1.train_index)
    neg = sampler.sample(index[0], gen)
    _, parts = model.loss(adj, index[0], index[1], neg)
    assert parts['ssl'] > 0


@pytest.mark.parametrize('negatives', ['all', 'batch'])
def test_sgl_infonce_against_an_independent_computation(small_graph, negatives):
    r"""'all' (SGL paper Eq. 9-10, RecBole's calc_ssl_loss, averaged instead of summed):
    each batch user against every user of view 2; 'batch': the unique batch nodes only."""
    model, adj, index, sampler = setup(small_graph, 'sgl', negatives=negatives)
    model.prepare_epoch(adj, torch.Generator().manual_seed(1))
    user, pos = index[0][:25], index[1][:25]  # users repeat within this batch
    _, parts = model.loss(adj, user, pos, sampler.sample(user, torch.Generator()))
    with torch.no_grad():
        (u1, i1), (u2, i2) = (model(view) for view in model.views)
    tau, total = model.ssl_tau, 0.0
    for a, b, anchors in ((u1, u2, user), (i1, i2, pos)):
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
        anchors = anchors.tolist() if negatives == 'all' else sorted(set(anchors.tolist()))
        pool = range(b.size(0)) if negatives == 'all' else anchors
        terms = [-math.log(math.exp(float(a[n] @ b[n]) / tau) /
                           sum(math.exp(float(a[n] @ b[m]) / tau) for m in pool))
                 for n in anchors]
        total += sum(terms) / len(terms)
    assert float(parts['ssl']) == pytest.approx(total, rel=1e-5)


def test_simgcl_noise_has_length_eps_in_the_sign_orthant():
    model = SimGCL(3, 4, eps=0.1)
    h = torch.randn(50, 8)
    delta = model.noise(h) - h
    assert torch.allclose(delta.norm(dim=1), torch.full((50,), 0.1), atol=1e-6)
    assert (delta * torch.sign(h) >= 0).all()


@pytest.mark.parametrize('name, products', [('lightgcn', 2), ('sgcl', 2), ('sgl', 6),
                                            ('simgcl', 4), ('xsimgcl', 2)])
def test_propagations_per_step(name, products, small_graph, monkeypatch):
    # XSimGCL shares one forward pass between its losses; SimGCL and SGL need three.
    model, adj, index, sampler = setup(small_graph, name)
    model.prepare_epoch(adj, torch.Generator().manual_seed(0))
    count = {'n': 0}
    for target in [adj, *(getattr(model, 'views', None) or [])]:
        for method in ('propagate', 'propagate_rows', 'propagate_layer_rows'):
            original = getattr(target, method)

            def counted(*args, _original=original, _method=method):
                # propagate_layer_rows(x, num_layers, rows) makes num_layers products
                count['n'] += args[1] if _method == 'propagate_layer_rows' else 1
                return _original(*args)
            monkeypatch.setattr(target, method, counted)
    neg = sampler.sample(index[0], torch.Generator().manual_seed(0))
    model.loss(adj, index[0], index[1], neg)
    assert count['n'] == products


@pytest.mark.parametrize('name, option, value', [
    ('sgl', 'ssl_tau', 0.0), ('sgl', 'drop_ratio', 1.0), ('sgl', 'drop_ratio', -0.1),
    ('sgl', 'ssl_weight', -1.0), ('sgl', 'negatives', 'some'), ('sgcl', 'tau', -0.2),
    ('simgcl', 'eps', -0.1),
    ('simgcl', 'cl_tau', 0.0), ('xsimgcl', 'cl_layer', 3), ('ngcf', 'message_dropout', 1.0),
    ('mf', 'reg_weight', -1e-5), ('lightgcn', 'reg_weight', -1.0),
])
def test_bad_hyper_parameters_name_the_parameter(name, option, value):
    with pytest.raises(UserInputError, match=option):
        build_model(name, 3, 4, **{option: value})


def test_unknown_option_is_named():
    with pytest.raises(UserInputError, match="model 'mf' has no option 'ssl_tau'"):
        build_model('mf', 3, 4, ssl_tau=0.2)
    assert isinstance(build_model('mf', 3, 4, num_layers=2), MF)  # shared option dropped
    assert isinstance(build_model('lightgcn', 3, 4), LightGCN)


@pytest.mark.slow
@pytest.mark.parametrize('name, epochs', [('mf', 8), ('ngcf', 2), ('sgl', 3), ('sgcl', 1),
                                          ('simgcl', 1), ('xsimgcl', 1)])
def test_each_backbone_beats_most_popular_on_beauty(name, epochs, beauty):
    from pyg_llminit.training import TrainConfig, Trainer
    train, val, test = LeaveOneOutSplit()(beauty)
    torch.manual_seed(0)
    model = build_model(name, beauty['user'].num_nodes, beauty['item'].num_nodes)
    results = Trainer(model, train, val, test, TrainConfig(epochs=epochs, device='cpu'),
                      log=lambda s: None).fit()
    assert results['test']['ndcg@10'] > results['test_most_popular']['ndcg@10']
