"""The training batches ``(adj, user, pos, neg)`` of an epoch, from one interface:
:class:`FullGraphBatches` (every step propagates over the whole training graph, fastest
where it fits) or :class:`NeighborBatches` (sampled subgraphs, for graphs whose full
propagation does not fit). Both have ``len()`` (steps per epoch) and
``epoch(model, generator, neg_generator)``.

PyG's :class:`~torch_geometric.loader.LinkNeighborLoader` draws, for a batch of training
interactions (the seed edges) and one random negative item each (``'triplet'`` negative
sampling), a ``fanout``-limited neighbourhood per layer. The sampled edges of both directions
become a :class:`SubgraphAdjacency`: local numbering (the batch's users, then its items),
global normalisation weights :math:`1/\\sqrt{d_u d_i}` from the full training degrees (so a
node keeps the scale it has in full-graph propagation), and ``node_id``, the rows of the
model's embedding table the subgraph spans. Every backbone reads its layer-0 embeddings
through :meth:`~pyg_llminit.models.base.Recommender.ego`, which indexes the table by those
global ids, so LLMInit-initialised tables need nothing special. Activations per step are
bounded by the batch size and the fan-out, not by the graph size.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..datasets.graph import EDGE_TYPE, ITEM, REV_EDGE_TYPE, USER
from ..errors import UserInputError, invalid
from ..models.propagation import NormalizedAdjacency, SubgraphAdjacency, inverse_sqrt_degree
from ..models.base import Recommender
from .distributed import shard
from .sampling import NegativeSampler

#: One step's input: the adjacency to propagate over and ``(user, pos, neg)`` ``[B]`` each
#: in its node numbering (``neg`` is ``None`` for a backbone that samples no negatives).
Batch = Tuple[NormalizedAdjacency, Tensor, Tensor, Optional[Tensor]]


class FullGraphBatches:
    r"""Batches of a random permutation of the training interactions (this rank's shard
    of it under DDP), every one propagating over the full adjacency.

    Args:
        adj (NormalizedAdjacency): The training graph's adjacency.
        sampler (NegativeSampler): Draws each batch's negatives.
        batch_size (int): Interactions per step (per rank).
        needs_negatives (bool): Whether to draw negatives at all.
        rank (int), world_size (int): This process's shard. (default: one process)
    """
    def __init__(self, adj: NormalizedAdjacency, sampler: NegativeSampler, batch_size: int,
                 needs_negatives: bool = True, rank: int = 0, world_size: int = 1) -> None:
        self.adj, self.sampler, self.batch_size = adj, sampler, batch_size
        self.train_index = adj.train_index
        self.needs_negatives, self.rank, self.world_size = needs_negatives, rank, world_size

    def __len__(self) -> int:
        return -(-(self.train_index.size(1) // self.world_size) // self.batch_size)

    def epoch(self, model: Recommender, generator: torch.Generator,
              neg_generator: Optional[torch.Generator] = None) -> Iterator[Batch]:
        r"""Lets :obj:`model` draw its per-epoch state (SGL's views), then yields the
        batches; :obj:`generator` shuffles (the same on every rank), :obj:`neg_generator`
        draws negatives (default: :obj:`generator`)."""
        model.prepare_epoch(self.adj, generator)
        perm = torch.randperm(self.train_index.size(1), generator=generator)
        if self.world_size > 1:
            perm = shard(perm, self.rank, self.world_size)
        for start in range(0, perm.numel(), self.batch_size):
            user, pos = self.train_index[:, perm[start:start + self.batch_size]]
            neg = (self.sampler.sample(user, neg_generator or generator, pos)
                   if self.needs_negatives else None)
            yield self.adj, user, pos, neg


def check_neighbor_sampling() -> None:
    r"""PyG's neighbour sampling needs torch-sparse or pyg-lib; without either it fails only
    when the first batch is drawn, so this says so before anything is loaded."""
    from torch_geometric.typing import WITH_PYG_LIB, WITH_TORCH_SPARSE
    if not (WITH_PYG_LIB or WITH_TORCH_SPARSE):
        raise UserInputError("loader 'neighbor' needs torch-sparse or pyg-lib: set them up "
                             'with `bash scripts/bootstrap.sh full` (built from source, '
                             'about 15 minutes once on a 2-core machine)', param='loader')


def resolve_fanout(value: Optional[Sequence[int]], num_layers: int) -> List[int]:
    r"""Neighbours sampled per layer (``-1``: all), one value per layer; default 10."""
    fanout = [10] * num_layers if value is None else [int(v) for v in value]
    if len(fanout) != num_layers:
        raise invalid('fanout', f'has {len(fanout)} value(s) but the model has '
                      f'{num_layers} layer(s): give one per layer')
    if any(f == 0 or f < -1 for f in fanout):
        raise invalid('fanout', f'values must be positive or -1 (all), got {fanout}')
    return fanout


class NeighborBatches:
    r"""Mini-batches ``(subgraph, user, pos, neg)`` of the training interactions.

    Args:
        train_index (Tensor): Training ``(user, item)`` pairs ``[2, E]`` (the seed edges).
        num_users (int), num_items (int): Global node counts.
        fanout (Sequence[int]): Neighbours sampled per layer and edge direction.
        batch_size (int): Seed edges per batch.
        sampler (NegativeSampler): Used to drop the (rare) triplets whose random negative
            is a known training positive of the user.
        graph_index (Tensor, optional): The pairs whose graph is sampled, when the seed
            edges are only part of it (a rank's shard). (default: :obj:`train_index`)
    """
    def __init__(self, train_index: Tensor, num_users: int, num_items: int,
                 fanout: Sequence[int], batch_size: int, sampler: NegativeSampler,
                 graph_index: Optional[Tensor] = None) -> None:
        from torch_geometric.loader import LinkNeighborLoader
        check_neighbor_sampling()
        graph_index = train_index if graph_index is None else graph_index
        graph = HeteroData()
        graph[USER].num_nodes, graph[ITEM].num_nodes = num_users, num_items
        graph[EDGE_TYPE].edge_index = graph_index
        graph[REV_EDGE_TYPE].edge_index = graph_index.flip(0)
        self.num_users, self.sampler = num_users, sampler
        self.inv_sqrt = inverse_sqrt_degree(graph_index, num_users, num_items)
        self.loader = LinkNeighborLoader(
            graph, num_neighbors={EDGE_TYPE: list(fanout), REV_EDGE_TYPE: list(fanout)},
            edge_label_index=(EDGE_TYPE, train_index), neg_sampling='triplet',
            batch_size=batch_size, shuffle=True)

    def __len__(self) -> int:
        return len(self.loader)

    def subgraph(self, batch: HeteroData) -> SubgraphAdjacency:
        user_id, item_id = batch[USER].n_id, batch[ITEM].n_id
        forward, backward = batch[EDGE_TYPE].edge_index, batch[REV_EDGE_TYPE].edge_index
        pairs = torch.cat([forward, backward.flip(0)], dim=1)
        num_items = item_id.numel()
        key = torch.unique(pairs[0] * num_items + pairs[1])  # an edge sampled both ways once
        pairs = torch.stack([key // num_items, key % num_items])
        return SubgraphAdjacency.of_sample(pairs, user_id, item_id, self.inv_sqrt,
                                           self.num_users)

    def epoch(self, model: Recommender, generator: Optional[torch.Generator] = None,
              neg_generator: Optional[torch.Generator] = None) -> Iterator[Batch]:
        r"""The batches of one epoch. The loader shuffles and samples with torch's global
        generator (seeded by the trainer); every subgraph draws its own views, so
        :obj:`model` prepares nothing per epoch."""
        return iter(self)

    def __iter__(self) -> Iterator[Tuple[SubgraphAdjacency, Tensor, Tensor, Tensor]]:
        for batch in self.loader:
            user = batch[USER].src_index
            pos, neg = batch[ITEM].dst_pos_index, batch[ITEM].dst_neg_index.view(-1)
            ok = ~self.sampler.rejects(batch[USER].n_id[user], batch[ITEM].n_id[pos],
                                       batch[ITEM].n_id[neg])
            if ok.any():  # (a step must run even then: every DDP rank steps together)
                user, pos, neg = user[ok], pos[ok], neg[ok]
            yield self.subgraph(batch), user, pos, neg


__all__ = ['Batch', 'FullGraphBatches', 'NeighborBatches', 'check_neighbor_sampling',
           'resolve_fanout']
