"""Evaluation: exact full-ranking metrics (also per group of users), top-K recommendation
and approximate retrieval."""
from .groups import check_group_edges, degree_groups
from .protocol import held_out_evaluator, evaluate_held_out
from .ranking import METRICS, RankingEvaluator, popularity_scores
from .recommend import recommend, user_index
from .topk import ScoreFn, UserItems, ranked_lists, top_k_unseen

__all__ = ['RankingEvaluator', 'METRICS', 'popularity_scores', 'held_out_evaluator',
           'evaluate_held_out', 'check_group_edges', 'degree_groups', 'recommend',
           'user_index', 'ScoreFn', 'UserItems', 'ranked_lists', 'top_k_unseen']
