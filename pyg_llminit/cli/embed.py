"""``pyg-llminit embed``: encode a graph's item texts once, into the embedding cache."""
import time
from typing import Optional

import click

from .options import DEVICE_HELP, ENCODER_HELP, GRAPH_HELP, ROOT_HELP


@click.command('embed')
@click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP)
@click.option('--encoder', default='minilm', show_default=True,
              help=ENCODER_HELP)
@click.option('--encoder-device', default='auto', show_default=True,
              help='Where the text model runs: ' + DEVICE_HELP)
@click.option('--text-fields', default='title', show_default=True,
              help='Comma-separated item text fields.')
@click.option('--text-template', default=None, help="Format string, e.g. '{title} by {brand}'.")
@click.option('--out', default=None, metavar='FILE.safetensors',
              help='Also write the matrix to this file, for --embedding FILE on a machine '
              'without the text model.')
@click.option('--root', default=None, help=ROOT_HELP)
def embed_command(graph: str, encoder: str, encoder_device: str, text_fields: str,
                  text_template: Optional[str], out: Optional[str], root: Optional[str]
                  ) -> None:
    """Encode a graph's item texts once and cache the embedding matrix.

    Later `train --init ...` runs with the same graph, encoder and text recipe reuse the
    cache (under $PYG_LLMINIT_HOME/embeddings); an interrupted encoding resumes.

    \b
    Example:
      pyg-llminit embed --graph amazon --encoder minilm
      pyg-llminit embed --graph amazon --encoder smollm2 --encoder-device cuda
      pyg-llminit embed --graph amazon --out beauty-minilm.safetensors
    """
    from ..datasets import load_graph
    from ..devices import resolve_device
    from ..errors import invalid
    from ..io import pyg_llminit_home, writable_file
    from ..text import encode_items
    from ..text.cache import save_embedding
    resolve_device(encoder_device, 'encoder_device')  # an absent GPU fails before loading
    if out is not None and not out.endswith('.safetensors'):
        raise invalid('out', f'{out}: name a .safetensors file (the format --embedding reads)')
    out_path = writable_file(out)  # before the encoding, not after it
    data = load_graph(graph, root)
    start = time.perf_counter()
    # encode_items splits and de-duplicates 'title,brand' itself (text.recipe.normalize_fields)
    emb = encode_items(data, encoder, fields=text_fields, template=text_template,
                       device=encoder_device)
    click.echo(f'{graph}: {emb.size(0):,} items x {emb.size(1)} dims from {encoder} '
               f'({time.perf_counter() - start:.1f} s), cached in '
               f'{pyg_llminit_home() / "embeddings"}')
    if out_path is not None:
        save_embedding(out_path, emb)
        click.echo(f'wrote {out_path} (train --init variance --embedding {out_path})')
