"""``pyg-llminit export``: a finished run's embeddings and id maps as plain files."""
from typing import Optional

import click

from .options import DEVICE_HELP, ROOT_HELP


@click.command('export')
@click.argument('run_dir', metavar='RUN')
@click.option('--out', required=True, help='A new or empty folder (not inside RUN).')
@click.option('--format', 'fmt', type=click.Choice(['safetensors', 'npy']),
              default='safetensors', show_default=True,
              help='One safetensors file of the four tables, or one .npy file per table.')
@click.option('--root', default=None, help=ROOT_HELP)
@click.option('--device', default='cpu', show_default=True, help=DEVICE_HELP)
def export_command(run_dir: str, out: str, fmt: str, root: Optional[str],
                   device: str) -> None:
    """Write a finished run's user and item embeddings with their ids.

    Four tables from RUN/best.pt: user_ego and item_ego (the trained layer-0 embeddings;
    an LLMInit run started them from the LLM dimensions) and user_final and item_final
    (after propagation: score(u, i) = user_final[u] . item_final[i]); user_ids.txt and
    item_ids.txt name the rows; export.json says how to load them, e.g.

    \b
      from safetensors.numpy import load_file; tables = load_file('DIR/embeddings.safetensors')

    \b
    Examples:
      pyg-llminit export runs/quick --out exported/quick
      pyg-llminit export runs/quick --out exported/quick-npy --format npy
    """
    from ..experiment import load_run
    from ..experiment.export import check_export, export_run
    from ..training import resolve_device
    check_export(run_dir, out, fmt)  # before the run is loaded
    run = load_run(run_dir, root, resolve_device(device))
    for path in export_run(run, run_dir, out, fmt):
        click.echo(f'wrote {path}')
