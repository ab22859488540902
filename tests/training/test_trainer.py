import pytest
import torch

from pyg_llminit.errors import UserInputError
from pyg_llminit.models import build_model
from pyg_llminit.transforms.split import LeaveOneOutSplit, train_index
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.stopping import EarlyStopping


def fit(small_graph, **config):
    train, val, test = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    torch.manual_seed(0)
    model = build_model('lightgcn', nu, ni, embedding_dim=8, num_layers=2)
    trainer = Trainer(model, train, val, test,
                      TrainConfig(**{'epochs': 2, 'batch_size': 32, **config}), log=lambda s: None)
    return trainer, trainer.fit(), train


def test_test_metrics_per_user_group_by_training_interactions(small_graph):
    # small_graph: 40 users with 4-12 interactions, so 2-10 in training after leave-one-out
    trainer, results, train = fit(small_graph, user_groups=(3, 6))
    groups = results['test_by_user_degree']
    degree = torch.bincount(train_index(train)[0], minlength=40)
    expected = {'<=3': int((degree <= 3).sum()), '4-6': int(((degree > 3) & (degree <= 6)).sum()),
                '>6': int((degree > 6).sum())}
    assert {name: g['users'] for name, g in groups.items()} == \
        {name: n for name, n in expected.items() if n}
    for name, value in results['test'].items():
        mean = sum(g['users'] * g[name] for g in groups.values()) / 40
        assert mean == pytest.approx(value, abs=1e-6)
    # the same model evaluated without groups gives the same overall test metrics
    assert trainer.test_evaluator.evaluate(trainer.model.score_fn(trainer.adj)) == \
        results['test']


def test_user_groups_can_be_switched_off_and_are_checked(small_graph):
    _, results, _ = fit(small_graph, user_groups=None)
    assert 'test_by_user_degree' not in results and 'test' in results
    with pytest.raises(UserInputError, match='user_groups must be increasing'):
        TrainConfig(user_groups=(6, 3))


def test_fit_stops_and_warns_as_its_early_stopping_rule_says(small_graph):
    trainer, results, _ = fit(small_graph, epochs=40, patience=3, warmup=5, lr=0.05)
    curve = [h.val['ndcg@10'] for h in trainer.history]
    reference = EarlyStopping(patience=3, warmup=5, max_epochs=40)
    stops = [reference.update(epoch, score) for epoch, score in enumerate(curve, start=1)]
    assert len(curve) >= 8 and not any(stops[:-1]) and (stops[-1] or len(curve) == 40)
    assert results['best_epoch'] == reference.best_epoch
    assert results['valid'] == trainer.history[reference.best_epoch - 1].val
    assert results['warnings'] == reference.warnings()
    # the model ends with the best epoch's weights, not the last one's, and the test
    # metrics are theirs: validation scored again gives the best epoch's numbers
    assert results['best_epoch'] < len(curve)
    assert trainer.history[-1].val['ndcg@10'] < results['valid']['ndcg@10']
    score = trainer.model.score_fn(trainer.adj)
    assert trainer.val_evaluator.evaluate(score) == pytest.approx(results['valid'])
    assert trainer.test_evaluator.evaluate(score) == pytest.approx(results['test'])


def test_a_diverged_loss_stops_with_an_error_naming_the_epoch(small_graph, tmp_path):
    from pyg_llminit.experiment import RunFolder
    train, val, test = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    model = build_model('lightgcn', nu, ni, embedding_dim=8, num_layers=2)
    model.init_from_x(torch.full((nu, 8), 1e30), torch.full((ni, 8), 1e30))  # overflows
    trainer = Trainer(model, train, val, test, TrainConfig(epochs=3, batch_size=32),
                      writer=RunFolder(tmp_path / 'run'), log=lambda s: None)
    with pytest.raises(UserInputError, match=r'training diverged: the loss of epoch 1 is '
                                             r'(nan|inf)'):
        trainer.fit()
    assert not (tmp_path / 'run').exists()  # nothing written for a diverged epoch


@pytest.mark.parametrize('mask_seen, negatives', [(True, 'seen'), (False, 'positive')])
def test_protocol_settings_reach_the_evaluators_and_the_sampler(small_graph, mask_seen,
                                                                negatives):
    r"""``--protocol paper``'s ``mask_seen=False`` lets validation and test rank a user's
    training items (a score that puts them first fills the top-K with them), and its
    ``negatives='positive'`` is the sampler the training batches draw from."""
    train, val, test = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    model = build_model('lightgcn', nu, ni, embedding_dim=8, num_layers=2)
    trainer = Trainer(model, train, val, test, TrainConfig(
        epochs=1, batch_size=32, mask_seen=mask_seen, negatives=negatives),
        log=lambda s: None)
    assert trainer.batches.sampler.exclude == negatives
    seen = torch.zeros(nu, ni)
    users, items = train_index(train)
    seen[users, items] = 1.0
    for evaluator in (trainer.val_evaluator, trainer.test_evaluator):
        top = evaluator.top_items(lambda u: seen[u] * 100 + torch.rand(len(u), ni),
                                  evaluator.users)[:, :10]  # every user has 18+ unseen
        assert bool(seen[evaluator.users.unsqueeze(1), top].bool().any()) == (not mask_seen)
