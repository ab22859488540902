"""``pyg-llminit recommend``: top-K items per user from a finished run."""
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import click

from ..errors import UserInputError
from .options import DEVICE_HELP, ROOT_HELP

if TYPE_CHECKING:
    from torch import Tensor

    from ..experiment import Run


def known_pairs(run: 'Run', exclude: str) -> 'Tensor':
    r"""``(user, item)`` pairs to hide: ``'seen'`` every interaction of the graph (what a
    deployed recommender hides), ``'train'`` only the run's training interactions."""
    from ..datasets.graph import EDGE_TYPE
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
@click.option('--new-items', default=None, metavar='FILE',
              help="Rank brand-new items instead, from their text alone: a CSV with a header "
              "(item_id or item, then title and other text columns) or a RecBole .item file, "
              "ids not yet in the graph. Their texts are encoded with the run's encoder and "
              "mapped into its item table by a map fitted on the trained items (the run's "
              "--cold-map, ridge by default); nothing is retrained.")
@click.option('--out', default=None, help='Also write the lists as JSON (atomically).')
@click.option('--root', default=None, help=ROOT_HELP)
@click.option('--device', default='auto', show_default=True, help=DEVICE_HELP)
def recommend_command(run_dir: str, users: Tuple[str, ...], all_users: bool, k: int,
                      exclude: str, new_items: Optional[str], out: Optional[str],
                      root: Optional[str], device: str) -> None:
    """Top-K items for users, from the best checkpoint of a finished train run.

    Rebuilds the run's graph, split and model from RUN/config.json and RUN/best.pt, then
    ranks every item for each user (a cold-item run never lists its held-out items, which
    it never trained: give such items with --new-items). Prints one table per --user; --out writes
    {"user id": [{"item": id, "score": s}, ...]} as JSON.

    \b
    Examples:
      pyg-llminit recommend runs/quick --user A1YJEY40YUW4SE
      pyg-llminit recommend runs/quick --all-users -k 20 --out recs.json
      pyg-llminit recommend runs/quick --user A1YJEY40YUW4SE --new-items new.csv
    """
    import torch

    from ..evaluation.recommend import recommend, user_index
    from ..experiment import load_run
    from ..io import writable_file, write_json
    from ..training import resolve_device
    writable_file(out, protected=run_dir)
    if all_users and not out:
        raise UserInputError('--all-users needs --out (one list per user is a lot to print)')
    if not users and not all_users:
        raise UserInputError('name users with --user ID (repeatable) or ask for --all-users')
    new = None
    if new_items is not None:
        from ..experiment.new_items import read_new_items
        new = read_new_items(new_items)  # a bad file fails before the run is loaded
    run = load_run(run_dir, root, resolve_device(device))
    ids: List[str] = list(run.data['user'].ids) if all_users else list(users)
    index = torch.arange(len(ids)) if all_users else user_index(run.data, ids)
    catalogue = run.data if new is None else new
    if new is None:
        from ..transforms.split import cold_items
        items, scores = recommend(run.model, run.adj, index, known_pairs(run, exclude), k,
                                  progress=all_users, hide_items=cold_items(run.train))
    else:
        from ..experiment.new_items import check_new_items, new_item_scorer, rank_new_items
        check_new_items(run, new, new_items)
        items, scores = rank_new_items(*new_item_scorer(run, new), index.cpu(), k)
    item_ids, titles = catalogue['item'].ids, getattr(catalogue['item'], 'title', None)
    results: Dict[str, List[Dict]] = {}
    for user, row, vals in zip(ids, items.tolist(), scores.tolist()):
        results[user] = [{'item': item_ids[i], 'score': round(v, 6)}
                         for i, v in zip(row, vals) if i >= 0]
        if not all_users:
            click.echo(f'\nuser {user} ({run.config.model}, {run_dir})')
            click.echo(f'{"#":>3}  {"item":>12}  {"score":>8}  title')
            for rank, (i, v) in enumerate(zip(row, vals), 1):
                if i >= 0:
                    title = titles[i][:70] if titles is not None else ''
                    click.echo(f'{rank:3d}  {item_ids[i]:>12}  {v:8.4f}  {title}')
    if out:
        write_json(out, results)
        click.echo(f'{len(results):,} lists of up to {k} items written to {out}')
