"""``pyg-llminit evaluate``: a finished run's best checkpoint scored again."""
from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import click

from ..catalog import EVAL_SPLITS
from .options import (DEVICE_HELP, ROOT_HELP, parse_item_groups, parse_topk,
                      parse_user_groups)


@click.command('evaluate')
@click.argument('run_dir', metavar='RUN')
@click.option('--on', 'split', type=click.Choice(list(EVAL_SPLITS)), default='test',
              show_default=True, help="The held-out interactions to rank: the run's test or "
              "validation split.")
@click.option('--topk', default='10,20', show_default=True, help='Cut-offs K of the metrics.')
@click.option('--user-groups', default='5,10,20', show_default=True,
              help="Upper bounds of the groups of users by training interactions; 'none' "
              "skips the per-group table.")
@click.option('--item-groups', default='0.2,0.5', show_default=True,
              help="Shares of the items by popularity that end the head and the torso of "
              "the per-item-group table; 'none' skips it.")
@click.option('--mask-seen/--no-mask-seen', default=None,
              help="Mask the user's training items (for test also the validation items) "
              "or rank every item; default: as the run was evaluated (--protocol paper "
              "runs rank every item).")
@click.option('--out', default=None, help='Also write the results as JSON (atomically).')
@click.option('--root', default=None, help=ROOT_HELP)
@click.option('--device', default='auto', show_default=True, help=DEVICE_HELP)
def evaluate_command(run_dir: str, split: str, topk: str, user_groups: str,
                     item_groups: str, mask_seen: Optional[bool], out: Optional[str],
                     root: Optional[str], device: str) -> None:
    """Evaluate the best checkpoint of a finished train run again.

    Rebuilds the run's graph, split and model from RUN/config.json and RUN/best.pt and
    ranks all items for every user of the split (training items masked, for test also
    the validation items, unless the run ranked every item; a cold-item run ranks the
    split's held-out items beside its references), with other cut-offs, user groups or
    masking than the run used, e.g. to see the sparse users of a run made before
    per-group metrics existed, or a --protocol paper run's numbers with seen items masked.

    \b
    Examples:
      pyg-llminit evaluate runs/quick
      pyg-llminit evaluate runs/quick --topk 5,10,50 --user-groups 3,5,8,15
      pyg-llminit evaluate runs/paper --mask-seen
    """
    from ..evaluation.groups import check_group_edges, check_item_shares
    from ..io import exclusive, writable_file
    ks, groups = parse_topk(topk), parse_user_groups(user_groups)
    if groups:
        check_group_edges(groups)
    shares = parse_item_groups(item_groups)
    if shares:
        check_item_shares(shares)
    out_path = writable_file(out, protected=run_dir)
    with ExitStack() as held:
        if out_path is not None:  # two evaluations writing one file: the second stops here
            held.enter_context(exclusive(out_path, 'out', out))
        _evaluate(run_dir, split, ks, groups, shares, mask_seen, out_path, root, device)


def _evaluate(run_dir: str, split: str, ks, groups, shares, mask_seen: Optional[bool],
              out_path: Optional[Path], root: Optional[str], device: str) -> None:
    from ..experiment import RunFolder, evaluate_run, load_run
    from ..experiment.tables import groups_table, metrics_table, split_columns
    from ..io import write_json
    from ..training import resolve_device
    run = load_run(run_dir, root, resolve_device(device))
    if not (Path(run_dir) / RunFolder.RESULTS).is_file():
        click.echo(f'note: {run_dir} has no {RunFolder.RESULTS} (still training, or '
                   'stopped): scoring its best checkpoint so far', err=True)
    result = evaluate_run(run, split, ks, groups, item_groups=shares, mask_seen=mask_seen)
    click.echo(f'{run_dir}: {run.config.model} on {run.config.graph}, {split}, '
               f'{result["ranking"]}')
    click.echo(metrics_table(split_columns(result, split)))
    if f'{split}_by_user_degree' in result:
        click.echo(f'\n{split} by training interactions per user')
        click.echo(groups_table(result[f'{split}_by_user_degree']))
    if f'{split}_by_item_popularity' in result:
        click.echo(f'\n{split} by popularity of the held-out item')
        click.echo(groups_table(result[f'{split}_by_item_popularity'], first='item group'))
    if out_path is not None:
        write_json(out_path, {'run': str(run_dir), **result})
