"""Validation and test on items the model never trained on (a
:class:`~pyg_llminit.transforms.split.ColdItemSplit`).

Each user with held-out interactions ranks the split's cold items (the new catalogue: none
of them was in training, so nothing is masked) and is scored against the ones they
interacted with. The model's own answer scores a new item with the final user table and
the item's text mapped into the final item table (:mod:`~pyg_llminit.coldstart.maps`),
fitted on the warm items after every epoch of validation and once at test. Beside it, in
one table, the references:

- ``llminit``: the new item's own LLMInit vector (its selected text dimensions), what
  LLMInit gives a new item for free, scored with the trained user table (runs with an
  LLMInit ``--init`` only, and not NGCF, whose final table concatenates its layers);
- ``text``: no model at all, the cosine between the item's text embedding and the user's
  mean text embedding over their training items;
- ``random``: a random ranking (seeded), the floor;
- the other map (``mlp`` beside ``ridge``, or the reverse).
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.utils import scatter

from ..errors import UserInputError, invalid
from ..evaluation.groups import degree_groups
from ..evaluation.protocol import per_user_table
from ..evaluation.ranking import RankingEvaluator, group_means, mean_metrics
from ..transforms.split import cold_items
from ..transforms.split import label_index, train_index
from .maps import MAPS, fit_on_warm_items, make_map

REFERENCES = ('llminit', 'text', 'random')
Tables = Tuple[Tensor, Tensor]  # user [U, d], item [I, d]


def user_text_profiles(text: Tensor, train_index: Tensor, num_users: int) -> Tensor:
    r"""Every user's mean unit text embedding over their training items, unit length
    ``[U, D]`` (zero for a user without training items)."""
    unit = F.normalize(text.float(), dim=1)
    mean = scatter(unit[train_index[1]], train_index[0], 0, dim_size=num_users,
                   reduce='mean')
    return F.normalize(mean, dim=1)


class ColdItemProtocol:
    r"""The cold-item evaluation of a trained backbone (see the module's docstring).

    Args:
        train_data, val_data, test_data (HeteroData): A
            :class:`~pyg_llminit.transforms.split.ColdItemSplit`'s graphs.
        text (Tensor): Every item's text embedding ``[I, D]``.
        item_x (Tensor, optional): Every item's LLMInit features ``[I, d]`` (the
            ``llminit`` reference; ``None`` for a run without LLMInit).
        cold_map (str): The model's map, ``'ridge'`` or ``'mlp'``. (default: ``'ridge'``)
        k (Sequence[int]): Cut-offs. (default: ``(10, 20)``)
        batch_size (int): Users ranked at once. (default: :obj:`1024`)
        user_groups (Sequence[int], optional): Test metrics per user-degree group too.
        seed (int): Seed of the MLP map and the random ranking. (default: :obj:`0`)
    """
    def __init__(self, train_data: HeteroData, val_data: HeteroData, test_data: HeteroData,
                 text: Tensor, item_x: Optional[Tensor] = None, cold_map: str = 'ridge',
                 k: Sequence[int] = (10, 20), batch_size: int = 1024,
                 user_groups: Optional[Sequence[int]] = None, seed: int = 0) -> None:
        make_map(cold_map)  # an unknown map fails here
        self.num_users = train_data['user'].num_nodes
        num_items = train_data['item'].num_nodes
        if text.size(0) != num_items:
            raise UserInputError(f'the text embedding has {text.size(0)} rows for '
                                 f'{num_items} items')
        self.text, self.item_x, self.cold_map, self.seed = text.float(), item_x, cold_map, seed
        self.train_index = train_index(train_data)
        self.user_groups = user_groups
        self.negative_pool = torch.ones(num_items, dtype=torch.bool)
        self.negative_pool[cold_items(train_data)] = False
        self.negative_pool = self.negative_pool.nonzero().view(-1)
        self.candidates, self.evaluators = {}, {}
        for split, data, items in (('valid', val_data, train_data.cold_val_items),
                                   ('test', test_data, train_data.cold_test_items)):
            labels = label_index(data)
            if labels.size(1) == 0:
                raise UserInputError(f'the cold-item {split} split has no interactions')
            if max(k) > items.numel():
                raise invalid('topk', f'cut-offs must lie in 1..{items.numel()} (the held-out '
                              f'{split} items), got {list(k)}')
            local = torch.full((num_items,), -1, dtype=torch.long)
            local[items] = torch.arange(items.numel())
            self.candidates[split] = items
            self.evaluators[split] = RankingEvaluator(
                self.num_users, items.numel(), torch.stack([labels[0], local[labels[1]]]),
                (), k=k, batch_size=batch_size)
        self.profiles = user_text_profiles(self.text, self.train_index, self.num_users)

    def metric_names(self) -> List[str]:
        return self.evaluators['valid'].metric_names()

    def mapped_items(self, tables: Tables, kind: str, items: Tensor) -> Tensor:
        r"""The final embeddings ``[C, d]`` a map of :obj:`kind`, fitted on the warm items'
        texts and final embeddings, gives :obj:`items`."""
        fitted = fit_on_warm_items(kind, self.text, tables[1], self.train_index, self.seed)
        return fitted(self.text[items])

    def scorers(self, tables: Tables, split: str, names: Sequence[str]
                ) -> Dict[str, Callable[[Tensor], Tensor]]:
        r"""``{name: score_fn}`` over the split's cold items (``score_fn``: user indices
        ``[B]`` -> scores ``[B, C]``) for maps (``'ridge'``, ``'mlp'``) and references."""
        items, users = self.candidates[split], tables[0]
        scorers = {}
        for name in names:
            if name in MAPS:
                vectors = self.mapped_items(tables, name, items)
                scorers[name] = _dot(users, vectors)
            elif (name == 'llminit' and self.item_x is not None
                  and self.item_x.size(1) == users.size(1)):  # not NGCF: its users concat
                scorers[name] = _dot(users, self.item_x[items].float())  # every layer
            elif name == 'text':
                scorers[name] = _dot(self.profiles, F.normalize(self.text[items], dim=1))
            elif name == 'random':
                scorers[name] = _random_scores(items.numel(), self.seed)
        return scorers

    @torch.no_grad()
    def validate(self, tables: Tables) -> Dict[str, float]:
        r"""Validation metrics of the model's map, given the final ``(user, item)``
        tables."""
        score_fn = self.scorers(tables, 'valid', [self.cold_map])[self.cold_map]
        return self.evaluators['valid'].evaluate(score_fn)

    @torch.no_grad()
    def test(self, tables: Tables, split: str = 'test') -> Dict:
        r"""Results on :obj:`split` (``'test'``, or ``'valid'`` to look back), in the
        schema of ``results.json``: ``test`` (the model's map), ``test_by_user_degree``
        (with user groups), ``test_cold_references`` (``{name: metrics}`` of the other map
        and the references) and ``test_per_user`` (the model's map per user, and the
        references' recall and NDCG at the smallest cut-off as ``'text ndcg@10'``, ...)."""
        evaluator = self.evaluators[split]
        other = [m for m in MAPS if m != self.cold_map]
        scorers = self.scorers(tables, split, [self.cold_map, *other, *REFERENCES])
        values = evaluator.per_user(scorers.pop(self.cold_map))
        result: Dict = {split: mean_metrics(values)}
        if self.user_groups:
            group, names = degree_groups(self.train_index, self.num_users, self.user_groups)
            result[f'{split}_by_user_degree'] = group_means(values, group, names)
        reference_values = {name: evaluator.per_user(fn) for name, fn in scorers.items()}
        result[f'{split}_cold_references'] = {name: mean_metrics(v)
                                              for name, v in reference_values.items()}
        k = min(evaluator.k)  # the references per user too, at the smallest cut-off, for
        paired = {f'{name} {metric}@{k}': v[f'{metric}@{k}']  # paired tests against them
                  for name, v in reference_values.items() for metric in ('recall', 'ndcg')}
        result[f'{split}_per_user'] = {**per_user_table(values, self.train_index,
                                                        self.num_users), **paired}
        return result

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(map={self.cold_map}, valid items='
                f'{self.candidates["valid"].numel()}, test items='
                f'{self.candidates["test"].numel()})')


def _dot(users: Tensor, items: Tensor) -> Callable[[Tensor], Tensor]:
    users, items = users.float().cpu(), items.float().cpu()
    return lambda index: users[index.cpu()] @ items.T


def _random_scores(num_items: int, seed: int) -> Callable[[Tensor], Tensor]:
    r"""Random scores drawn per batch of users (never a ``[U, C]`` table), from a
    generator seeded by :obj:`seed` and the batch's first user and size: the same
    batches give the same ranking."""
    def score(index: Tensor) -> Tensor:
        key = (seed * 1_000_003 + int(index[0]) * 131 + index.numel()) % 2 ** 63
        return torch.rand(index.numel(), num_items, generator=torch.Generator().manual_seed(key))
    return score

