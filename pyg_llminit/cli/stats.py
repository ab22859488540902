"""``pyg-llminit stats``: what a graph holds."""
from typing import Optional

import click

from .options import GRAPH_HELP, ROOT_HELP


@click.command('stats')
@click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP)
@click.option('--root', default=None, help=ROOT_HELP)
@click.option('--force-reload', is_flag=True,
              help="Process the graph's raw files again instead of reading its cache.")
def stats_command(graph: str, root: Optional[str], force_reload: bool) -> None:
    """Print a graph's statistics."""
    from ..datasets import load_graph
    from ..datasets.graph import graph_statistics
    from ..experiment.tables import stats_table
    click.echo(stats_table(graph_statistics(load_graph(graph, root, force_reload))))
