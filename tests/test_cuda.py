r"""The same computations on a CUDA GPU as on the CPU (skipped where no GPU is present)."""
import json

import pytest
import torch

from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.evaluation.ranking import RankingEvaluator
from pyg_llminit.models import MODELS, build_model, normalized_adjacency
from pyg_llminit.training.sampling import NegativeSampler
from pyg_llminit.transforms.split import LeaveOneOutSplit, label_index, train_index
from pyg_llminit.experiment import RunFolder
from pyg_llminit.training import TrainConfig, Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


@pytest.mark.parametrize('name', sorted(MODELS))
def test_loss_and_gradients_match_cpu(name, small_graph):
    train, _, _ = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    index = train[EDGE_TYPE].edge_index
    adj = normalized_adjacency(index, nu, ni)
    neg = NegativeSampler(index, ni).sample(index[0], torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    cpu_model = build_model(name, nu, ni, embedding_dim=16, num_layers=2)
    gpu_model = build_model(name, nu, ni, embedding_dim=16, num_layers=2)
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model = gpu_model.cuda()
    cpu_model.eval(), gpu_model.eval()  # no dropout / noise: the two must agree exactly
    results = []
    for model, device in ((cpu_model, 'cpu'), (gpu_model, 'cuda')):
        torch.manual_seed(1)
        loss, _ = model.loss(adj.to(device), *(t.to(device) for t in (index[0], index[1], neg)))
        loss.backward()
        results.append((loss.detach().cpu(), model.embedding.weight.grad.cpu()))
    assert torch.allclose(results[0][0], results[1][0], rtol=1e-4, atol=1e-6)
    assert torch.allclose(results[0][1], results[1][1], rtol=1e-3, atol=1e-6)


def test_evaluator_on_gpu_equals_cpu(small_graph):
    train, val, _ = LeaveOneOutSplit()(small_graph)
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    scores = torch.rand(nu, ni, generator=torch.Generator().manual_seed(0))
    evaluator = RankingEvaluator(nu, ni, label_index(val), [train_index(train)], batch_size=7)
    cpu = evaluator.evaluate(lambda users: scores[users])
    gpu_scores = scores.cuda()
    gpu = evaluator.evaluate(lambda users: gpu_scores[users.cuda()], device=torch.device('cuda'))
    assert cpu.keys() == gpu.keys()
    for key in cpu:
        assert cpu[key] == pytest.approx(gpu[key], abs=1e-6), key


def test_trainer_on_gpu_beats_most_popular(beauty, tmp_path):
    train, val, test = LeaveOneOutSplit()(beauty)
    model = build_model('lightgcn', beauty['user'].num_nodes, beauty['item'].num_nodes)
    trainer = Trainer(model, train, val, test, TrainConfig(epochs=5, device='cuda'),
                      writer=RunFolder(tmp_path), log=lambda s: None)
    results = trainer.fit()
    assert next(model.parameters()).is_cuda
    assert results['test']['ndcg@10'] > results['test_most_popular']['ndcg@10']
    state = torch.load(tmp_path / 'best.pt', weights_only=True, map_location='cpu')
    assert set(state) == set(model.state_dict())
    assert len(json.loads((tmp_path / 'history.json').read_text())) == 5
