"""Exact full-ranking evaluation over all items, chunked over users.

For every user with at least one label, all items are scored, the user's excluded items
(training items; also validation items when scoring test) are masked, and the top-``max(K)``
list is compared with the labels by PyG's link-prediction metrics
(their per-user values, averaged). Memory is bounded by
``batch_size x num_items`` scores at a time. The same pass can also average the metrics
within groups of users (e.g. by number of training interactions,
:func:`~pyg_llminit.evaluation.groups.degree_groups`):
LLMInit's largest gains are reported for sparse users.
"""
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.metrics import (
    LinkPredHitRatio,
    LinkPredMRR,
    LinkPredNDCG,
    LinkPredPrecision,
    LinkPredRecall,
)
from torch_geometric.metrics.link_pred import LinkPredMetricData

from .. import catalog
from ..errors import UserInputError
from .topk import ScoreFn, UserItems, top_k_unseen

METRICS = dict(zip(catalog.METRICS, (LinkPredRecall, LinkPredNDCG, LinkPredHitRatio,
                                      LinkPredPrecision, LinkPredMRR)))

class RankingEvaluator:
    r"""Full-ranking top-K evaluation of a recommender on one split.

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
        label_index (Tensor): The split's ``(user, item)`` pairs to retrieve, ``[2, E]``.
        exclude_index (Iterable[Tensor]): ``[2, *]`` pairs never recommended (e.g. the
            training pairs; for test also the validation pairs).
        k (Sequence[int]): Cut-offs. (default: ``(10, 20)``)
        metrics (Sequence[str]): Any of ``recall``, ``ndcg``, ``hit``, ``precision``,
            ``mrr``. (default: all)
        batch_size (int): Users scored at once. (default: :obj:`2048`)
    """
    def __init__(self, num_users: int, num_items: int, label_index: Tensor,
                 exclude_index: Iterable[Tensor] = (), k: Sequence[int] = (10, 20),
                 metrics: Sequence[str] = tuple(METRICS), batch_size: int = 2048) -> None:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise UserInputError(
                f"unknown metric '{unknown[0]}' (choose from {', '.join(METRICS)})")
        if not k or min(k) < 1 or max(k) > num_items:
            raise UserInputError(f'top-K cut-offs must lie in 1..{num_items}, got {list(k)}')
        self.num_users, self.num_items = num_users, num_items
        self.k, self.metrics, self.batch_size = sorted(set(k)), list(metrics), batch_size
        self.label_index = label_index
        self.labels = UserItems(label_index, num_users)
        excl = [e for e in exclude_index]
        excl_index = torch.cat(excl, 1) if excl else label_index.new_empty(2, 0)
        self.exclude = UserItems(excl_index, num_users)
        self.users = torch.unique(label_index[0])

    def metric_names(self) -> List[str]:
        return [f'{m}@{k}' for m in self.metrics for k in self.k]

    @torch.no_grad()
    def top_items(self, score_fn: ScoreFn, users: Tensor) -> Tensor:
        r"""Top-``max(K)`` items ``[len(users), max(K)]`` with excluded items masked."""
        return top_k_unseen(score_fn(users).float(), users, self.exclude, max(self.k)).indices

    @torch.no_grad()
    def evaluate(self, score_fn: ScoreFn, device: Optional[torch.device] = None
                 ) -> Dict[str, float]:
        r"""Runs the evaluation.

        Args:
            score_fn (callable): Maps user indices ``[B]`` to scores ``[B, num_items]``.
            device (torch.device, optional): Where user index chunks are sent.

        Returns:
            ``{'recall@10': ..., 'ndcg@10': ..., ...}``, averaged over users with labels.
        """
        return self.evaluate_top(self._top_fn(score_fn, device))

    @torch.no_grad()
    def evaluate_groups(self, score_fn: ScoreFn, group: Optional[Tensor],
                        names: Sequence[str], device: Optional[torch.device] = None
                        ) -> Tuple[Dict[str, float], Dict[str, Dict[str, float]]]:
        r"""The metrics over all users and, from the same ranking pass, within each group.

        Args:
            score_fn (callable): As in :meth:`evaluate`.
            group (Tensor, optional): Group id in ``0..len(names)-1`` of every user,
                ``[num_users]``; ``None``: no groups (the second result is empty).
            names (Sequence[str]): Group names.
            device (torch.device, optional): As in :meth:`evaluate`.

        Returns:
            ``(overall, {name: {'users': n, 'recall@10': ..., ...}})``; groups without a
            labelled user are left out.
        """
        per_user = self.per_user(score_fn, device)
        return mean_metrics(per_user), group_means(per_user, group, names)

    @torch.no_grad()
    def evaluate_top(self, top_fn: Callable[[Tensor], Tensor]) -> Dict[str, float]:
        r"""The metrics of given top-``max(K)`` lists: :obj:`top_fn` maps user indices
        ``[B]`` to item indices ``[B, max(K)]`` (``-1`` pads a short list), e.g. from an
        approximate nearest-neighbour index."""
        return mean_metrics(self.per_user_top(top_fn))

    @torch.no_grad()
    def per_user(self, score_fn: ScoreFn, device: Optional[torch.device] = None
                 ) -> Dict[str, Tensor]:
        r"""Every labelled user's metrics, for paired significance tests and per-user
        tables: ``{'user': [N], 'recall@10': [N], ...}`` over the :obj:`N` users with a
        label, in increasing user order. Their means are :meth:`evaluate`'s values."""
        return self.per_user_top(self._top_fn(score_fn, device))

    @torch.no_grad()
    def cached_top(self, score_fn: ScoreFn, device: Optional[torch.device] = None
                   ) -> Callable[[Tensor], Tensor]:
        r"""Ranks once and returns a ``top_fn`` (see :meth:`evaluate_top`) that looks the
        lists up, so that other label sets over the same users and exclusions (e.g. the
        labels of one item group) are scored without ranking again."""
        top_fn = self._top_fn(score_fn, device)
        lists = torch.cat([top_fn(self.users[s:s + self.batch_size]).cpu()
                           for s in range(0, self.users.numel(), self.batch_size)])
        position = torch.full((self.num_users,), -1, dtype=torch.long)
        position[self.users] = torch.arange(self.users.numel())
        return lambda users: lists[position[users.cpu()]]

    @torch.no_grad()
    def per_user_top(self, top_fn: Callable[[Tensor], Tensor]) -> Dict[str, Tensor]:
        r""":meth:`per_user` from top-``max(K)`` lists (as :meth:`evaluate_top`)."""
        # PyG's metrics compute a value per example before they average; reading those
        # values keeps one definition of every metric (PyG's) for means, groups and users.
        metrics = {f'{m}@{k}': METRICS[m](k) for m in self.metrics for k in self.k}
        parts: Dict[str, List[Tensor]] = {name: [] for name in metrics}
        for start in range(0, self.users.numel(), self.batch_size):
            users = self.users[start:start + self.batch_size]
            data = LinkPredMetricData(top_fn(users).cpu(), self.labels.gather(users))
            for name, metric in metrics.items():
                parts[name].append(metric._compute(data).float())
        return {'user': self.users, **{name: torch.cat(values) if values else
                                       torch.zeros(0) for name, values in parts.items()}}

    def _top_fn(self, score_fn: ScoreFn, device: Optional[torch.device]
                ) -> Callable[[Tensor], Tensor]:
        return lambda users: self.top_items(score_fn, users.to(device) if device else users)


def mean_metrics(per_user: Dict[str, Tensor]) -> Dict[str, float]:
    r"""The mean over users of every metric of :meth:`RankingEvaluator.per_user` (``0``
    without users, as PyG's metrics)."""
    return {name: float(values.mean()) if values.numel() else 0.0
            for name, values in per_user.items() if name != 'user'}


def group_means(per_user: Dict[str, Tensor], group: Optional[Tensor], names: Sequence[str]
                ) -> Dict[str, Dict[str, float]]:
    r"""The metrics of :meth:`RankingEvaluator.per_user` averaged within groups of users
    (``group``: the group id of every user ``[num_users]``), ``{name: {'users': n, ...}}``;
    empty groups are left out."""
    if group is None:
        return {}
    user_group = group.cpu()[per_user['user']]
    result = {}
    for gid, name in enumerate(names):
        rows = user_group == gid
        if rows.any():
            result[name] = {'users': int(rows.sum()),
                            **mean_metrics({k: v[rows] for k, v in per_user.items()})}
    return result


def popularity_scores(train_index: Tensor, num_items: int) -> ScoreFn:
    r"""The most-popular baseline: every user scores items by training degree."""
    pop = torch.bincount(train_index[1], minlength=num_items).float()
    return lambda users: pop.expand(users.numel(), -1).clone()
