"""What every recommender of this package shares: user and item tables in one embedding
(users first, then items, as in PyG's :class:`~torch_geometric.nn.models.LightGCN`), the
one path that initialises them from node features ``x``."""
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor

from .scoring import embedding_scores


class Recommender(torch.nn.Module):
    r"""Base class: subclasses own ``self.embedding`` (an ``nn.Embedding`` of
    ``num_users + num_items`` rows) and implement :meth:`forward` and :meth:`loss`."""
    num_users: int
    num_items: int
    embedding: torch.nn.Embedding

    def forward(self, adj) -> Tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        r"""Final user ``[num_users, d]`` and item ``[num_items, d]`` representations."""
        raise NotImplementedError

    def loss(self, adj, user: Tensor, pos: Tensor, neg: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        r"""Training loss of a batch of ``(user, pos, neg)`` triples ``[B]`` each, and its
        detached parts by name."""
        raise NotImplementedError  # pragma: no cover - abstract

    @torch.no_grad()
    def init_from_x(self, user_x: Optional[Tensor], item_x: Optional[Tensor]) -> None:
        r"""Copies initial embeddings into the table: rows ``0..num_users-1`` from
        :obj:`user_x` ``[num_users, d]``, the rest from :obj:`item_x` ``[num_items, d]``.
        The one path by which LLMInit features reach every backbone."""
        dim = self.embedding.embedding_dim
        for x, rows, n, name in ((user_x, slice(0, self.num_users), self.num_users, 'user'),
                                 (item_x, slice(self.num_users, None), self.num_items, 'item')):
            if x is None:
                continue
            if tuple(x.shape) != (n, dim):
                raise ValueError(f'{name} x has shape {tuple(x.shape)}, expected ({n}, {dim})')
            self.embedding.weight[rows] = x.to(self.embedding.weight)

    #: Whether :meth:`loss` reads the sampled negatives (SGCL's does not).
    needs_negatives: bool = True

    def prepare_epoch(self, adj, generator: Optional[torch.Generator] = None) -> None:
        r"""Called by the trainer before every epoch with the training adjacency: a
        backbone that needs per-epoch state (SGL's edge-dropout views) builds it here."""

    def batch_rows(self, user: Tensor, pos: Tensor, neg: Tensor, adj=None) -> Tensor:
        r"""Rows of ``(user, pos, neg)`` ``[B]`` each in the joint table of :obj:`adj`'s
        nodes (users first): ``[3B]``."""
        offset = self.users_in(adj)
        return torch.cat([user, pos + offset, neg + offset])

    def users_in(self, adj=None) -> int:
        r"""Number of users :obj:`adj` spans: all of them, or a sampled subgraph's."""
        return self.num_users if adj is None else adj.num_users

    def ego(self, adj=None) -> Tensor:
        r"""Layer-0 embeddings of the nodes :obj:`adj` spans ``[N_adj, d]``: the whole
        table, or a sampled subgraph's rows of it (mini-batch training indexes the table by
        the sampled nodes' global ids, see
        :meth:`~pyg_llminit.models.propagation.NormalizedAdjacency.rows_of`)."""
        w = self.embedding.weight
        return w if adj is None else adj.rows_of(w)

    def ego_embeddings(self) -> Tuple[Tensor, Tensor]:
        w = self.embedding.weight
        return w[:self.num_users], w[self.num_users:]

    @torch.no_grad()
    def score_fn(self, adj) -> Callable[[Tensor], Tensor]:
        r"""Full-ranking scores: propagates once, then ``users [B] -> scores [B, I]``, each
        chunk written into one reused buffer (valid until the next call, as
        :class:`~pyg_llminit.evaluation.ranking.RankingEvaluator` consumes them)."""
        return embedding_scores(*self(adj), reuse_buffer=True)
