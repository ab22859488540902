"""The held-out protocol shared by training and by re-evaluating a finished run.

Validation ranks every item but the user's training items; test also hides the validation
items (unless ``mask_seen=False``: RecBole's repeatable evaluation ranks every item). A
split's results have one schema wherever they come from: ``{split: metrics,
f'{split}_most_popular': metrics, f'{split}_by_user_degree': {group: metrics}}``.
"""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from ..catalog import EVAL_SPLITS as SPLITS
from ..errors import invalid
from .groups import degree_groups, item_popularity_groups
from .ranking import RankingEvaluator, group_means, mean_metrics, popularity_scores
from .topk import ScoreFn


def held_out_evaluator(split: str, train_index: Tensor, val_index: Tensor,
                       test_index: Tensor, num_users: int, num_items: int,
                       k: Sequence[int] = (10, 20), batch_size: int = 1024,
                       mask_seen: bool = True) -> RankingEvaluator:
    r"""The evaluator of :obj:`split` (``'valid'`` or ``'test'``), masked as above, or
    with nothing masked (RecBole's repeatable evaluation).

    Args:
        split (str): ``'valid'`` or ``'test'``.
        train_index, val_index, test_index (Tensor): ``(user, item)`` pairs ``[2, *]``.
        num_users (int), num_items (int): Node counts.
        k (Sequence[int]): Cut-offs.
        batch_size (int): Users scored at once.
        mask_seen (bool): Mask as above; ``False``: every item is ranked.
    """
    if split not in SPLITS:
        raise invalid('split', f"must be 'valid' or 'test', got '{split}'")
    exclude = [train_index] if split == 'valid' else [train_index, val_index]
    if not mask_seen:
        exclude = []
    labels = val_index if split == 'valid' else test_index
    return RankingEvaluator(num_users, num_items, labels, exclude, k=k,
                            batch_size=batch_size)


def per_user_table(values: Dict[str, Tensor], train_index: Tensor, num_users: int
                   ) -> Dict[str, Tensor]:
    r"""Per-user metrics (:meth:`~pyg_llminit.evaluation.RankingEvaluator.per_user`) with
    each user's training interactions: ``{'user': [N], 'train_degree': [N], 'recall@10':
    [N], ...}``, the rows of ``test_per_user.csv``."""
    degree = torch.bincount(train_index[0].cpu(), minlength=num_users)
    return {'user': values['user'], 'train_degree': degree[values['user']],
            **{k: v for k, v in values.items() if k != 'user'}}


@torch.no_grad()
def evaluate_held_out(evaluator: RankingEvaluator, score_fn: ScoreFn, split: str,
                      train_index: Tensor, user_groups: Optional[Sequence[int]] = None,
                      device: Optional[torch.device] = None, per_user: bool = False,
                      item_groups: Optional[Sequence[float]] = None) -> Dict:
    r"""A model's metrics on a split beside the most-popular ranking's, and with
    :obj:`user_groups` also per group of users by training interactions, with
    :obj:`item_groups` per item-popularity group, all from one ranking pass.

    Returns:
        ``{split, f'{split}_most_popular'}``; with user groups,
        ``f'{split}_by_user_degree'`` (see
        :meth:`~pyg_llminit.evaluation.RankingEvaluator.evaluate_groups`); with item
        groups, ``f'{split}_by_item_popularity'``: per group (see
        :func:`~pyg_llminit.evaluation.groups.item_popularity_groups`) the metrics of the
        users' ranked lists against their held-out items of that group only
        (``{'items': n, 'users': n, 'recall@10': ..., ...}``); with :obj:`per_user`,
        ``f'{split}_per_user'``: every labelled user's metrics and training interactions
        (``{'user': [N], 'train_degree': [N], 'recall@10': [N], ...}``, see
        :meth:`~pyg_llminit.evaluation.RankingEvaluator.per_user`).
    """
    top_fn = evaluator.cached_top(score_fn, device)
    values = evaluator.per_user_top(top_fn)
    result: Dict = {split: mean_metrics(values),
                    f'{split}_most_popular': evaluator.evaluate(
                        popularity_scores(train_index, evaluator.num_items))}
    if user_groups:
        group, names = degree_groups(train_index, evaluator.num_users, user_groups)
        result[f'{split}_by_user_degree'] = group_means(values, group, names)
    if item_groups:
        result[f'{split}_by_item_popularity'] = _item_group_metrics(
            evaluator, top_fn, train_index, item_groups)
    if per_user:
        result[f'{split}_per_user'] = per_user_table(values, train_index,
                                                     evaluator.num_users)
    return result


def _item_group_metrics(evaluator: RankingEvaluator, top_fn, train_index: Tensor,
                        shares: Sequence[float]) -> Dict[str, Dict[str, float]]:
    item_group, names = item_popularity_groups(train_index.cpu(), evaluator.num_items,
                                               shares)
    labels = evaluator.label_index.cpu()
    out = {}
    for gid, name in enumerate(names):
        keep = item_group[labels[1]] == gid
        if not keep.any():
            continue
        sub = RankingEvaluator(evaluator.num_users, evaluator.num_items, labels[:, keep],
                               k=evaluator.k, metrics=evaluator.metrics,
                               batch_size=evaluator.batch_size)
        out[name] = {'items': int((item_group == gid).sum()), 'users': int(sub.users.numel()),
                     **mean_metrics(sub.per_user_top(top_fn))}
    return out


__all__ = ['SPLITS', 'held_out_evaluator', 'evaluate_held_out']
