r"""Run by tests/test_distributed.py under torchrun (2 CPU processes): trains a few epochs
with DDP and writes, from rank 0, whether all ranks hold identical parameters."""
import faulthandler
import json
import sys
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

from pyg_llminit.datasets import build_interaction_graph
from pyg_llminit.training.distributed import exit_rank
from pyg_llminit.models import build_model
from pyg_llminit.transforms.split import LeaveOneOutSplit
from pyg_llminit.training import TrainConfig, Trainer


def random_graph(users=60, items=40, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(f'u{u}', f'i{i}', int(t)) for u in range(users)
            for t, i in enumerate(rng.choice(items, rng.integers(5, 12), replace=False))]
    u, i, t = zip(*rows)
    return build_interaction_graph(list(u), list(i), time=list(t))


def gradient_gap(model, adj, train_index, rank: int, world: int) -> float:
    r"""Largest difference between the gradient of one DDP step, each rank on its half of
    a fixed batch, and the gradient one process computes on the whole batch: DDP averages
    the ranks' gradients, which equals the whole batch's only if every loss term is a mean
    over the batch (BPR, and the L2 term's 1/(2B))."""
    import copy

    from pyg_llminit.training.distributed import wrap
    user, pos = train_index[:, :32]
    neg = (pos + 1) % model.num_items
    model = copy.deepcopy(model)
    model.reg_weight = 1.0  # so that a wrongly normalised L2 term would show
    whole = copy.deepcopy(model)
    loss, _ = whole.loss(adj, user, pos, neg)
    loss.backward()
    parallel = copy.deepcopy(model)
    half = slice(rank * 32 // world, (rank + 1) * 32 // world)
    ddp = wrap(parallel, torch.device('cpu'))  # alive until backward: it holds the hooks
    loss, _ = ddp(adj, user[half], pos[half], neg[half])
    loss.backward()
    return float((parallel.embedding.weight.grad - whole.embedding.weight.grad).abs().max())


def main(out: str, loader: str) -> None:
    # a hang prints every thread's stack before the test's 180 s limit kills the run
    faulthandler.dump_traceback_later(150)
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(1)
    train, val, test = LeaveOneOutSplit()(random_graph())
    torch.manual_seed(0)
    model = build_model('lightgcn', train['user'].num_nodes, train['item'].num_nodes,
                        embedding_dim=8, num_layers=2)
    config = TrainConfig(epochs=3, batch_size=32, lr=0.01, patience=100, loader=loader,
                         fanout=(3, 3))
    trainer = Trainer(model, train, val, test, config, log=lambda s: None)
    trainer.start()
    gap = (gradient_gap(model, trainer.batches.adj, trainer.batches.train_index, rank, world)
           if loader == 'full' else None)
    batches = trainer.batches.epoch(model, trainer.generator, trainer.neg_generator)
    # the first 8 negatives of the first batch (padded: batches may differ in size)
    first_neg = torch.full((8,), -1, dtype=torch.long)
    adj, _, _, neg = next(iter(batches))
    if loader == 'neighbor':  # subgraph-local -> global item ids
        neg = adj.node_id[adj.num_users + neg] - train['user'].num_nodes
    neg = neg[:8]
    first_neg[:neg.numel()] = neg
    gathered = [torch.zeros_like(first_neg) for _ in range(world)]
    dist.all_gather(gathered, first_neg)
    trainer.start()  # the first batch drew from the generators: the same start on every rank
    losses = [trainer.train_epoch(e) for e in range(6)]
    weights = [torch.zeros_like(model.embedding.weight) for _ in range(world)]
    dist.all_gather(weights, model.embedding.weight.detach().contiguous())
    results = trainer.fit()  # rank 0 validates and decides; the others get {}
    if rank == 0:
        with open(out, 'w') as f:
            json.dump({'identical': all(torch.equal(weights[0], w) for w in weights[1:]),
                       'same_negatives': torch.equal(gathered[0], gathered[1]),
                       'gradient_gap': gap,
                       'losses': losses, 'epochs_run': results['epochs_run']}, f)
    else:
        assert results == {} and trainer.history == []
    exit_rank(0)  # as the CLI does: no interpreter teardown (see exit_rank)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
