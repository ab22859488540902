r"""Full-graph mini-batches: an epoch is a permutation of the training interactions, and
DDP ranks split it."""
import pytest
import torch

from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.models import build_model, normalized_adjacency
from pyg_llminit.training.batches import FullGraphBatches
from pyg_llminit.training.sampling import NegativeSampler
from pyg_llminit.transforms.split import LeaveOneOutSplit


def _pairs(batches, model, seed):
    gen = torch.Generator().manual_seed(seed)
    pairs, negatives = [], []
    for _, user, pos, neg in batches.epoch(model, gen):
        pairs += list(zip(user.tolist(), pos.tolist()))
        negatives.append((user, neg))
    return pairs, negatives


@pytest.mark.parametrize('world_size', [1, 2, 3])
def test_an_epoch_uses_every_training_interaction_once_across_ranks(small_graph, world_size):
    train, _, _ = LeaveOneOutSplit()(small_graph)
    index = train[EDGE_TYPE].edge_index
    nu, ni = small_graph['user'].num_nodes, small_graph['item'].num_nodes
    adj = normalized_adjacency(index, nu, ni)
    sampler = NegativeSampler(index, ni, 'seen')
    model = build_model('mf', nu, ni, embedding_dim=4)
    seen = set(zip(index[0].tolist(), index[1].tolist()))
    ranks = [FullGraphBatches(adj, sampler, 16, rank=r, world_size=world_size)
             for r in range(world_size)]
    parts = [_pairs(batches, model, seed=7) for batches in ranks]
    every = [p for pairs, _ in parts for p in pairs]
    assert len(every) == len(set(every))  # no interaction twice, on one rank or two
    assert set(every) <= seen
    assert len(every) == len(seen) - len(seen) % world_size  # the remainder sits out
    assert len({len(pairs) for pairs, _ in parts}) == 1  # ranks take equal steps
    assert all(len(list(b.epoch(model, torch.Generator().manual_seed(7)))) == len(b)
               for b in ranks)
    for _, negatives in parts:  # negatives are never one of the user's training items
        for user, neg in negatives:
            assert not any((u, n) in seen for u, n in zip(user.tolist(), neg.tolist()))
    # another epoch's seed gives another order of the same interactions
    again, _ = _pairs(ranks[0], model, seed=8)
    assert again != parts[0][0] and set(again) <= seen
