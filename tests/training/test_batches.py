r"""Mini-batch training over LinkNeighborLoader subgraphs."""
import pytest
import torch

pytest.importorskip('torch_sparse')  # LinkNeighborLoader needs torch-sparse (or pyg-lib)

from pyg_llminit.datasets.graph import EDGE_TYPE  # noqa: E402
from pyg_llminit.errors import UserInputError  # noqa: E402
from pyg_llminit.training.batches import NeighborBatches, resolve_fanout  # noqa: E402
from pyg_llminit.models import MODELS, build_model, normalized_adjacency  # noqa: E402
from pyg_llminit.training.sampling import NegativeSampler  # noqa: E402
from pyg_llminit.transforms.split import LeaveOneOutSplit  # noqa: E402
from pyg_llminit.training import TrainConfig, Trainer  # noqa: E402


def graph_parts(small_graph):
    train, val, test = LeaveOneOutSplit()(small_graph)
    index = train[EDGE_TYPE].edge_index
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    return train, val, test, index, nu, ni


@pytest.mark.parametrize('name', ['lightgcn', 'ngcf', 'sgcl', 'mf'])
def test_all_neighbours_give_the_full_graph_loss(name, small_graph):
    # With fan-out -1 the 2-hop subgraph holds every edge a seed's embedding depends on,
    # and global normalisation weights make its propagation exact.
    torch.manual_seed(0)
    _, _, _, index, nu, ni = graph_parts(small_graph)
    model = build_model(name, nu, ni, embedding_dim=8, num_layers=2)
    model.eval()
    batches = NeighborBatches(index, nu, ni, [-1, -1], 16, NegativeSampler(index, ni))
    adj, user, pos, neg = next(iter(batches))
    assert adj.node_id.numel() == adj.num_users + adj.num_items
    sub_loss, _ = model.loss(adj, user, pos, neg)
    glob = lambda local, n_id: n_id[local]  # noqa: E731
    user_ids, item_ids = adj.node_id[:adj.num_users], adj.node_id[adj.num_users:] - nu
    full_loss, _ = model.loss(normalized_adjacency(index, nu, ni), glob(user, user_ids),
                              glob(pos, item_ids), glob(neg, item_ids))
    assert torch.allclose(sub_loss, full_loss, atol=1e-5)


def test_subgraph_reads_the_table_by_global_id_and_drops_known_negatives(small_graph):
    _, _, _, index, nu, ni = graph_parts(small_graph)
    model = build_model('lightgcn', nu, ni, embedding_dim=4)
    sampler = NegativeSampler(index, ni)
    seen = 0
    for adj, user, pos, neg in NeighborBatches(index, nu, ni, [3, 2], 32, sampler):
        assert torch.equal(model.ego(adj), model.embedding.weight[adj.node_id])
        users = adj.node_id[user]
        items = adj.node_id[adj.num_users + pos] - nu
        assert sampler.is_known(users, items).all()  # positives are training pairs
        negatives = adj.node_id[adj.num_users + neg] - nu
        assert not sampler.is_known(users, negatives).any()
        # every subgraph edge is a training edge, weighted as in the full graph
        pairs = adj.train_index
        assert sampler.is_known(adj.node_id[pairs[0]],
                                adj.node_id[adj.num_users + pairs[1]] - nu).all()
        seen += user.numel()
    # a dense toy graph: about a quarter of the random negatives hit a positive and are dropped
    assert 0.5 * index.size(1) <= seen < index.size(1)


def test_resolve_fanout():
    assert resolve_fanout(None, 2) == [10, 10]
    assert resolve_fanout((5, -1), 2) == [5, -1]
    with pytest.raises(UserInputError, match='has 1 value.* but the model has 2 layer'):
        resolve_fanout((5,), 2)
    with pytest.raises(UserInputError, match='positive or -1'):
        resolve_fanout((5, 0), 2)


@pytest.mark.parametrize('name', sorted(MODELS))
def test_trainer_with_the_neighbor_loader(name, small_graph):
    train, val, test, _, nu, ni = graph_parts(small_graph)
    torch.manual_seed(0)
    model = build_model(name, nu, ni, embedding_dim=8, num_layers=2)
    config = TrainConfig(epochs=3, batch_size=32, loader='neighbor', fanout=(4, 4),
                         patience=5)
    results = Trainer(model, train, val, test, config, log=lambda s: None).fit()
    assert results['epochs_run'] == 3 and 0 <= results['test']['ndcg@10'] <= 1


def test_cli_rejects_a_fanout_that_does_not_match_the_layers(tmp_path, capsys):
    from pyg_llminit.cli.main import main
    with pytest.raises(SystemExit) as exc:
        main(['train', '--loader', 'neighbor', '--fanout', '5', '--epochs', '1',
              '--out', str(tmp_path / 'run')])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: --fanout has 1 value(s) but the model has 2 layer(s)')
    assert not (tmp_path / 'run').exists()


def test_sgl_draws_no_full_graph_views_with_the_neighbor_loader(small_graph):
    train, val, test, _, nu, ni = graph_parts(small_graph)
    model = build_model('sgl', nu, ni, embedding_dim=8, num_layers=2)
    config = TrainConfig(epochs=1, batch_size=32, loader='neighbor', fanout=(4, 4))
    Trainer(model, train, val, test, config, log=lambda s: None).fit()
    assert model.views is None  # each sampled subgraph drew its own views instead
