"""A finished run rebuilt from its folder: the graph and split it trained on, the model with
its best weights and the adjacency (:func:`load_run`), scored again on validation or test
(:func:`evaluate_run`) as training scored it."""
from pathlib import Path
from typing import TYPE_CHECKING, Dict, NamedTuple, Optional, Sequence, Union

import torch

from ..errors import DataError, UserInputError, first_line
from .config import ExperimentConfig
from .runs import RunFolder

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from ..models.propagation import NormalizedAdjacency
    from ..models.base import Recommender


class Run(NamedTuple):
    r"""A rebuilt run: its config, the whole graph, the split's training, validation and
    test graphs, the model with the best validation weights (in eval mode), the
    training adjacency and (for a cold-item split) the items' text embedding and LLMInit
    features."""
    config: ExperimentConfig
    data: 'HeteroData'
    train: 'HeteroData'
    val: 'HeteroData'
    test: 'HeteroData'
    model: 'Recommender'
    adj: 'NormalizedAdjacency'
    item_text: Optional[torch.Tensor] = None
    item_x: Optional[torch.Tensor] = None


def load_run(run_dir: Union[str, Path], root: Optional[str] = None,
             device: Union[str, torch.device] = 'cpu') -> Run:
    r"""Rebuilds the model of a finished run folder through the same pipeline that
    trained it (:func:`~pyg_llminit.experiment.prepare`, without encoding texts but for
    a cold-item split, whose held-out items are scored from them).

    Args:
        run_dir (str or Path): The folder.
        root (str, optional): Cache folder for processed graphs.
        device (str or torch.device): Where the model and adjacency go.
    """
    from ..models.propagation import normalized_adjacency
    from ..transforms.split import train_index
    from .pipeline import create_model, prepare

    folder = RunFolder(run_dir)
    config = folder.read_config()
    prepared = prepare(config, root, log=lambda line: None, features=False)
    folder.check_data(prepared.data)
    folder.check_text_vectors(prepared.item_text)
    model = create_model(config, prepared)
    try:
        model.load_state_dict(folder.read_best())
    except RuntimeError as e:
        raise DataError(f'{folder.path / folder.BEST} does not fit the model of its '
                        f'config.json: {first_line(e, lines=2)}') from None
    model.to(device).eval()
    num_users, num_items = model.num_users, model.num_items
    adj = normalized_adjacency(train_index(prepared.train), num_users, num_items).to(device)
    return Run(config, prepared.data, prepared.train, prepared.val, prepared.test, model, adj,
               prepared.item_text, prepared.item_x)


@torch.no_grad()
def evaluate_run(run: Run, split: str = 'test', k: Sequence[int] = (10, 20),
                 user_groups: Optional[Sequence[int]] = (5, 10, 20),
                 batch_size: int = 1024,
                 item_groups: Optional[Sequence[float]] = (0.2, 0.5),
                 mask_seen: Optional[bool] = None, per_user: bool = False) -> Dict:
    r"""The run's model on its validation or test split, masked as in training, beside the
    most-popular ranking (on held-out items: beside the references of
    :mod:`~pyg_llminit.coldstart`), in the schema of the run's ``results.json``.

    :obj:`mask_seen` overrides the run's own masking (``None``: as the run was evaluated),
    e.g. to score a ``--protocol paper`` run, which ranks every item, with the user's
    training items masked as well. With :obj:`per_user`, also
    ``f'{split}_per_user'``: every labelled user's metrics, as in ``test_per_user.csv``
    (see :func:`~pyg_llminit.evaluation.protocol.evaluate_held_out`).

    Returns:
        ``{'split': split, 'ranking': how, split: metrics, f'{split}_most_popular':
        metrics}``, where ``how`` says which items were ranked (``'seen items masked'``,
        ``'every item ranked'`` or, on held-out items, ``'held-out items ranked'``), and, with
        :obj:`user_groups`, ``f'{split}_by_user_degree'``, with :obj:`item_groups`,
        ``f'{split}_by_item_popularity'``; on held-out items ``f'{split}_most_popular'``
        and the item groups are replaced by ``f'{split}_cold_references'``.
    """
    from ..evaluation.protocol import evaluate_held_out, held_out_evaluator
    from ..transforms.split import label_index, train_index
    if run.config.cold_items:
        if mask_seen is not None:
            raise UserInputError('--mask-seen / --no-mask-seen do not apply to a cold-item '
                                 "run: it ranks only the split's held-out items",
                                 param='mask_seen')
        from .pipeline import cold_item_protocol
        protocol = cold_item_protocol(run.config, run, k, batch_size, user_groups)
        result = protocol.test(run.model(run.adj), split)
        if not per_user:
            result.pop(f'{split}_per_user')
        return {'split': split, 'ranking': 'held-out items ranked', **result}
    train = train_index(run.train)
    masked = run.config.train.mask_seen if mask_seen is None else mask_seen
    evaluator = held_out_evaluator(split, train, label_index(run.val), label_index(run.test),
                                   run.model.num_users, run.model.num_items, k, batch_size,
                                   masked)
    device = next(run.model.parameters()).device
    ranking = 'seen items masked' if masked else 'every item ranked'
    return {'split': split, 'ranking': ranking,
            **evaluate_held_out(evaluator, run.model.score_fn(run.adj), split, train,
                                user_groups, device, per_user=per_user,
                                item_groups=item_groups)}


__all__ = ['Run', 'load_run', 'evaluate_run']
