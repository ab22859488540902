"""Top-K recommendations from a trained model or a finished run folder.

:func:`recommend` ranks all items for given users with the items they already know masked,
as the evaluation does; ``pyg-llminit recommend RUN`` applies it to the model that
:func:`~pyg_llminit.runs.load_run` rebuilds from a run folder.
"""
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import click
import torch
from torch import Tensor

from .errors import UserInputError
from .runs import Run, load_run

if TYPE_CHECKING:  # the CLI imports this module: keep `pyg-llminit --help` fast
    from torch_geometric.data import HeteroData

    from .models.base import Recommender
    from .models.propagation import NormalizedAdjacency


def user_index(data: 'HeteroData', user_ids: Sequence[str]) -> Tensor:
    r"""Node indices ``[len(user_ids)]`` of original user ids; an unknown id is an error."""
    position = {u: i for i, u in enumerate(data['user'].ids)}
    unknown = [u for u in user_ids if u not in position]
    if unknown:
        raise UserInputError(f"unknown user id '{unknown[0]}' (the graph has "
                             f"{len(position):,} users, e.g. '{data['user'].ids[0]}')")
    return torch.tensor([position[u] for u in user_ids], dtype=torch.long)


@torch.no_grad()
def recommend(model: 'Recommender', adj: 'NormalizedAdjacency', users: Tensor,
              exclude_index: Tensor, k: int = 10, batch_size: int = 1024,
              progress: bool = False) -> Tuple[Tensor, Tensor]:
    r"""The top-:obj:`k` items of each user, known items excluded.

    Args:
        model (Recommender): A trained backbone.
        adj (NormalizedAdjacency): The adjacency it propagates over (training edges).
        users (Tensor): User indices ``[B]``.
        exclude_index (Tensor): ``(user, item)`` pairs never recommended, ``[2, E]``.
        k (int): List length, at most the number of items.
        batch_size (int): Users scored at once (the propagation runs once, before).
        progress (bool): Show a progress bar over the batches.

    Returns:
        ``(items, scores)``, both ``[B, k]``, best first; where a user has fewer than
        :obj:`k` items left, the tail has item ``-1`` and score ``-inf``.
    """
    from tqdm import tqdm

    from .evaluate import UserItems, top_k_unseen
    num_users, num_items = adj.num_users, adj.num_nodes - adj.num_users
    if not 1 <= k <= num_items:
        raise UserInputError(f'-k must lie in 1..{num_items}, got {k}')
    exclude = UserItems(exclude_index.cpu(), num_users)
    score_fn = model.score_fn(adj)
    device = next(model.parameters()).device
    items, scores = [], []
    for start in tqdm(range(0, users.numel(), batch_size), desc='ranking', unit='batch',
                      disable=None if progress else True, leave=False):
        chunk = users[start:start + batch_size]
        values, top = top_k_unseen(score_fn(chunk.to(device)).float(), chunk, exclude, k)
        top[values == float('-inf')] = -1
        items.append(top.cpu())
        scores.append(values.cpu())
    return torch.cat(items), torch.cat(scores)


def known_pairs(run: Run, exclude: str) -> Tensor:
    r"""``(user, item)`` pairs to hide: ``'seen'`` every interaction of the graph (what a
    deployed recommender hides), ``'train'`` only the run's training interactions."""
    from .datasets.graph import EDGE_TYPE
    graph = run.data if exclude == 'seen' else run.train
    return graph[EDGE_TYPE].edge_index


@click.command('recommend')
@click.argument('run_dir', metavar='RUN')
@click.option('--user', 'users', multiple=True, help='An original user id (repeatable).')
@click.option('--all-users', is_flag=True, help='Every user of the graph (needs --out).')
@click.option('-k', 'k', default=10, show_default=True, help='Items per user.')
@click.option('--exclude', type=click.Choice(['seen', 'train']), default='seen',
              show_default=True, help="Items never recommended: 'seen' = every item the user "
              "interacted with (train, validation and test); 'train' = only the run's "
              "training items, as the test evaluation ranks them.")
@click.option('--out', default=None, help='Also write the lists as JSON (atomically).')
@click.option('--root', default=None, help='Cache folder for processed graphs.')
@click.option('--device', default='auto', show_default=True, help="'cpu', 'cuda' or 'auto'.")
def recommend_command(run_dir: str, users: Tuple[str, ...], all_users: bool, k: int,
                      exclude: str, out: Optional[str], root: Optional[str],
                      device: str) -> None:
    """Top-K items for users, from the best checkpoint of a finished train run.

    Rebuilds the run's graph, split and model from RUN/config.json and RUN/best.pt, then
    ranks every item for each user. Prints one table per --user; --out writes
    {"user id": [{"item": id, "score": s}, ...]} as JSON.

    \b
    Examples:
      pyg-llminit recommend runs/quick --user A1YJEY40YUW4SE
      pyg-llminit recommend runs/quick --all-users -k 20 --out recs.json
    """
    from .io import writable_file, write_json
    from .train import resolve_device
    writable_file(out)
    if all_users and not out:
        raise UserInputError('--all-users needs --out (one list per user is a lot to print)')
    if not users and not all_users:
        raise UserInputError('name users with --user ID (repeatable) or ask for --all-users')
    run = load_run(run_dir, root, resolve_device(device))
    ids: List[str] = list(run.data['user'].ids) if all_users else list(users)
    index = torch.arange(len(ids)) if all_users else user_index(run.data, ids)
    items, scores = recommend(run.model, run.adj, index, known_pairs(run, exclude), k,
                              progress=all_users)
    item_ids, titles = run.data['item'].ids, getattr(run.data['item'], 'title', None)
    results: Dict[str, List[Dict]] = {}
    for user, row, vals in zip(ids, items.tolist(), scores.tolist()):
        results[user] = [{'item': item_ids[i], 'score': round(v, 6)}
                         for i, v in zip(row, vals) if i >= 0]
        if not all_users:
            click.echo(f'\nuser {user} ({run.config["model"]}, {run_dir})')
            click.echo(f'{"#":>3}  {"item":>12}  {"score":>8}  title')
            for rank, (i, v) in enumerate(zip(row, vals), 1):
                if i >= 0:
                    title = titles[i][:70] if titles is not None else ''
                    click.echo(f'{rank:3d}  {item_ids[i]:>12}  {v:8.4f}  {title}')
    if out:
        write_json(out, results)
        click.echo(f'{len(results):,} lists of up to {k} items written to {out}')
