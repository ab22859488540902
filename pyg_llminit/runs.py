"""Finished run folders: rebuild a ``pyg-llminit train`` run and evaluate it again.

A run folder holds everything needed to rebuild its model: the resolved options
(``config.json``: graph, filters, split, backbone and its hyper-parameters) and the weights
of the best validation epoch (``best.pt``). :func:`load_run` rebuilds graph, split, model
and the normalised training adjacency; :func:`evaluate_run` scores the model again on the
validation or test split, with other cut-offs or user groups than the run used.
"""
import json
from pathlib import Path
from typing import TYPE_CHECKING, Dict, NamedTuple, Optional, Sequence, Union

import torch

from .errors import UserInputError

if TYPE_CHECKING:  # the CLI imports this module: keep `pyg-llminit --help` fast
    from torch_geometric.data import HeteroData

    from .models.base import Recommender
    from .models.propagation import NormalizedAdjacency


class Run(NamedTuple):
    r"""A rebuilt run: its resolved options, the whole graph, the split's training,
    validation and test graphs, the model with the best validation weights (in eval mode)
    and the training adjacency."""
    config: Dict
    data: 'HeteroData'
    train: 'HeteroData'
    val: 'HeteroData'
    test: 'HeteroData'
    model: 'Recommender'
    adj: 'NormalizedAdjacency'


def load_run(run_dir: Union[str, Path], root: Optional[str] = None,
             device: Union[str, torch.device] = 'cpu') -> Run:
    r"""Rebuilds the model of a ``pyg-llminit train`` run folder.

    Args:
        run_dir (str or Path): The folder (``--out`` of the run).
        root (str, optional): Cache folder for processed graphs.
        device (str or torch.device): Where the model and adjacency go.
    """
    from .datasets import load_graph
    from .io import load_torch
    from .models import build_model
    from .models.propagation import normalized_adjacency
    from .split import parse_split, train_index

    run_dir = Path(run_dir)
    for name in ('config.json', 'best.pt'):
        if not (run_dir / name).is_file():
            raise UserInputError(f'{run_dir}: no {name} (not the folder of a finished '
                                 f'pyg-llminit train run)')
    try:
        config = json.loads((run_dir / 'config.json').read_text())
        graph, split, model_name = config['graph'], config['split'], config['model']
    except (ValueError, KeyError, TypeError) as e:
        raise UserInputError(f'{run_dir / "config.json"}: malformed ({e})') from None
    data = load_graph(graph, root, min_rating=config.get('min_rating'),
                      k_core=config.get('k_core'))
    train, val, test = parse_split(split, order=config.get('order', 'time'),
                                   seed=config.get('seed', 2020))(data)
    num_users, num_items = data['user'].num_nodes, data['item'].num_nodes
    model = build_model(model_name, num_users, num_items, embedding_dim=config.get('dim'),
                        num_layers=config.get('layers'), reg_weight=config.get('reg', 0.0),
                        **config.get('model_options', {}))
    try:
        model.load_state_dict(load_torch(run_dir / 'best.pt'))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise UserInputError(f'{run_dir / "best.pt"} does not fit the model of its '
                             f'config.json: {first}') from None
    model.to(device).eval()
    adj = normalized_adjacency(train_index(train), num_users, num_items).to(device)
    return Run(config, data, train, val, test, model, adj)


@torch.no_grad()
def evaluate_run(run: Run, split: str = 'test', k: Sequence[int] = (10, 20),
                 user_groups: Optional[Sequence[int]] = (5, 10, 20),
                 batch_size: int = 1024) -> Dict:
    r"""The run's model on its validation or test split, masked as in training (test also
    hides the validation items), beside the most-popular ranking.

    Returns:
        ``{'split', 'metrics', 'most_popular'}`` and, with :obj:`user_groups`,
        ``'by_user_degree'`` (see :meth:`~pyg_llminit.evaluate.RankingEvaluator.evaluate_groups`).
    """
    from .evaluate import RankingEvaluator, degree_groups, popularity_scores
    from .split import label_index, train_index
    if split not in ('valid', 'test'):
        raise UserInputError(f"the split to evaluate must be 'valid' or 'test', got '{split}'")
    train = train_index(run.train)
    exclude = [train] if split == 'valid' else [train, label_index(run.val)]
    labels = label_index(run.val if split == 'valid' else run.test)
    num_users, num_items = run.data['user'].num_nodes, run.data['item'].num_nodes
    evaluator = RankingEvaluator(num_users, num_items, labels, exclude, k=k,
                                 batch_size=batch_size)
    group, names = degree_groups(train, num_users, user_groups) if user_groups else (None, ())
    metrics, by_degree = evaluator.evaluate_groups(
        run.model.score_fn(run.adj), group, names,
        device=next(run.model.parameters()).device)
    result: Dict = {'split': split, 'metrics': metrics,
                    **({'by_user_degree': by_degree} if user_groups else {})}
    result['most_popular'] = evaluator.evaluate(popularity_scores(train, num_items))
    return result
