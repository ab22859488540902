"""The ``pyg-llminit`` command line (also ``python -m pyg_llminit``): the command group,
``stats``, ``embed`` and ``evaluate`` here, ``train`` in :mod:`pyg_llminit.train_command`,
``recommend`` in :mod:`pyg_llminit.recommend`; :func:`main` turns user mistakes and
interruptions into one ``error:`` line."""
import os
import signal
import sys
import time
import traceback
from typing import List, Optional

import click
import torch

from .errors import UserInputError
from .options import GRAPH_HELP, parse_topk, parse_user_groups
from .recommend import recommend_command
from .report import groups_table, stats_table, text_table
from .train_command import train_command


@click.group(context_settings={'help_option_names': ['-h', '--help'], 'max_content_width': 100})
@click.version_option(package_name='pyg-llminit')
def cli() -> None:
    """LLMInit for PyTorch Geometric: train collaborative-filtering recommenders on
    bipartite user-item graphs, optionally starting from language-model item embeddings.

    \b
    Start here:
      pyg-llminit train --graph amazon              LightGCN on the embedded Amazon Beauty
      pyg-llminit stats --graph amazon              what a graph holds
      pyg-llminit train --help                      every training option
      pyg-llminit recommend RUN --user ID           top-10 items from a finished run
      pyg-llminit evaluate RUN                      a finished run's metrics again
    """


@cli.command()
@click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP)
@click.option('--root', default=None, help='Cache folder for processed graphs '
              '(default: $PYG_LLMINIT_HOME or ~/.cache/pyg-llminit).')
def stats(graph: str, root: Optional[str]) -> None:
    """Print a graph's statistics."""
    from .datasets import load_graph
    from .datasets.graph import graph_statistics
    click.echo(stats_table(graph_statistics(load_graph(graph, root))))


@cli.command()
@click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP)
@click.option('--encoder', default='minilm', show_default=True,
              help="'minilm', 'smollm2', 'gemma3-270m', a folder or a Hugging Face id.")
@click.option('--text-fields', default='title', show_default=True,
              help='Comma-separated item text fields.')
@click.option('--text-template', default=None, help="Format string, e.g. '{title} by {brand}'.")
@click.option('--root', default=None, help='Cache folder for processed graphs.')
def embed(graph: str, encoder: str, text_fields: str, text_template: Optional[str],
          root: Optional[str]) -> None:
    """Encode a graph's item texts once and cache the embedding matrix.

    Later `train --init ...` runs with the same graph, encoder and text recipe reuse the
    cache (under $PYG_LLMINIT_HOME/embeddings); an interrupted encoding resumes.

    \b
    Example:
      pyg-llminit embed --graph amazon --encoder minilm
    """
    from .datasets import load_graph
    from .text import encode_items
    data = load_graph(graph, root)
    start = time.perf_counter()
    # encode_items splits and de-duplicates 'title,brand' itself (text.recipe.normalize_fields)
    emb = encode_items(data, encoder, fields=text_fields, template=text_template)
    click.echo(f'{graph}: {emb.size(0):,} items x {emb.size(1)} dims from {encoder} '
               f'({time.perf_counter() - start:.1f} s, cached)')


@cli.command()
@click.argument('run_dir', metavar='RUN')
@click.option('--on', 'split', type=click.Choice(['test', 'valid']), default='test',
              show_default=True, help="The held-out interactions to rank: the run's test or "
              "validation split.")
@click.option('--topk', default='10,20', show_default=True, help='Cut-offs K of the metrics.')
@click.option('--user-groups', default='5,10,20', show_default=True,
              help="Upper bounds of the groups of users by training interactions; 'none' "
              "skips the per-group table.")
@click.option('--out', default=None, help='Also write the results as JSON (atomically).')
@click.option('--root', default=None, help='Cache folder for processed graphs.')
@click.option('--device', default='auto', show_default=True, help="'cpu', 'cuda' or 'auto'.")
def evaluate(run_dir: str, split: str, topk: str, user_groups: str, out: Optional[str],
             root: Optional[str], device: str) -> None:
    """Evaluate the best checkpoint of a finished train run again.

    Rebuilds the run's graph, split and model from RUN/config.json and RUN/best.pt and
    ranks all items for every user of the split (training items masked; for test also the
    validation items), with other cut-offs or user groups than the run used, e.g. to see
    the sparse users of a run made before per-group metrics existed.

    \b
    Examples:
      pyg-llminit evaluate runs/quick
      pyg-llminit evaluate runs/quick --topk 5,10,50 --user-groups 3,5,8,15
    """
    from .evaluate import check_group_edges
    from .io import writable_file, write_json
    from .runs import evaluate_run, load_run
    from .train import resolve_device
    ks, groups = parse_topk(topk), parse_user_groups(user_groups)
    if groups:
        check_group_edges(groups)
    out_path = writable_file(out)
    run = load_run(run_dir, root, resolve_device(device))
    result = evaluate_run(run, split, ks, groups)
    click.echo(f'{run_dir}: {run.config["model"]} on {run.config["graph"]}, {split}')
    click.echo(text_table([[name, f'{value:.4f}', f'{result["most_popular"][name]:.4f}']
                           for name, value in result['metrics'].items()],
                          ['metric', split, f'{split} most-popular']))
    if 'by_user_degree' in result:
        click.echo(f'\n{split} by training interactions per user')
        click.echo(groups_table(result['by_user_degree']))
    if out_path is not None:
        write_json(out_path, {'run': str(run_dir), **result})


cli.add_command(train_command)
cli.add_command(recommend_command)


def _broken_group(error: RuntimeError) -> bool:
    r"""Whether ``error`` is gloo or NCCL reporting a peer that vanished."""
    text = str(error)
    return (torch.distributed.is_available() and torch.distributed.is_initialized()
            and any(w in text for w in ('gloo', 'NCCL', 'Connection reset', 'Connection closed')))


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # unwinds like Ctrl-C: open temporary files are removed


def main(argv: Optional[List[str]] = None) -> None:
    r"""Entry point: user mistakes end in one ``error:`` line and exit code 2; Ctrl-C and
    SIGTERM (torchrun stopping the ranks after one failed) leave no half-written file."""
    from .distributed import exit_rank, launched_by_torchrun
    if not launched_by_torchrun():
        return _run(argv)
    code = 0
    try:
        _run(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else int(e.code is not None)
    except BaseException:  # noqa: BLE001 - a bug: show it, then exit like any failed rank
        traceback.print_exc()
        code = 1
    exit_rank(code)


def _run(argv: Optional[List[str]]) -> None:
    rank = f"rank {os.environ['RANK']}: " if int(os.environ.get('WORLD_SIZE', '1')) > 1 else ''
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        cli.main(args=argv, prog_name='pyg-llminit', standalone_mode=False)
    except UserInputError as e:
        click.echo(f'error: {rank}{e}', err=True)
        sys.exit(2)
    except (KeyboardInterrupt, click.exceptions.Abort):  # before RuntimeError: Abort is one
        click.echo(f'error: {rank}interrupted; files already in the run folder are complete, '
                   'nothing was half-written', err=True)
        sys.exit(130)
    except (torch.distributed.DistError, RuntimeError) as e:
        if not (isinstance(e, torch.distributed.DistError) or _broken_group(e)):
            raise  # a bug, not a peer that died: keep the traceback
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        click.echo(f'error: {rank}distributed training stopped (did another rank fail?): '
                   f'{first}', err=True)
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    finally:
        signal.signal(signal.SIGTERM, previous)
