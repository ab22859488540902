"""``pyg-llminit report``: finished runs side by side, as markdown and plots."""
from typing import Tuple

import click


@click.command('report')
@click.argument('runs', nargs=-1, metavar='RUN [RUN ...]')
@click.option('--out', required=True, help='Folder for report.md and its PNG plots.')
def report_command(runs: Tuple[str, ...], out: str) -> None:
    """Report finished runs, several overlaid.

    Writes OUT/report.md (each run's model, init, test metrics, best epoch and effective
    rank, and its warnings) and PNG plots: validation curves, training loss, test NDCG per
    user group and per item-popularity group, and the singular-value spectra of the trained
    tables.

    \b
    Examples:
      pyg-llminit report runs/none runs/variance --out reports/beauty
    """
    from ..experiment.report import report
    click.echo(f'wrote {report(runs, out)}')
