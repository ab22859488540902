"""The ``pyg-llminit`` command group (also ``python -m pyg_llminit``) and its entry point,
which turns user mistakes and interruptions into one ``error:`` line."""
import errno
import os
import signal
import sys
import traceback
from typing import List, Optional

import click

from ..errors import EXIT_CODES, StorageError, UserInputError, first_line, interrupt_on_sigterm
from .compare import compare_command
from .embed import embed_command
from .evaluate import evaluate_command
from .export import export_command
from .options import flag
from .recommend import recommend_command
from .report import report_command
from .stats import stats_command
from .train import train_command
from .tune import tune_command


@click.group(context_settings={'help_option_names': ['-h', '--help'], 'max_content_width': 100})
@click.version_option(package_name='pyg-llminit')
@click.option('--verbose', is_flag=True,
              help='Also show the progress bars and warnings of transformers and '
                   'huggingface_hub (as PYG_LLMINIT_VERBOSE=1 does).')
@click.option('-q', '--quiet', is_flag=True,
              help="Show results only: no line per epoch and no progress bar (as "
                   "PYG_LLMINIT_QUIET=1 does); statistics, tables, warnings and errors still "
                   "print, and a run's console.log keeps every line.")
def cli(verbose: bool, quiet: bool) -> None:
    """LLMInit for PyTorch Geometric: train collaborative-filtering recommenders on
    bipartite user-item graphs, optionally starting from language-model item embeddings.

    \b
    Start here:
      pyg-llminit train --graph amazon                  LightGCN on the embedded Amazon Beauty
      pyg-llminit train --graph amazon --init uniform   ... from LLMInit-Uni item vectors
      pyg-llminit stats --graph amazon                  what a graph holds
      pyg-llminit train --help                          every training option
      pyg-llminit compare --out DIR                     none vs variance, 3 seeds, paired test
      pyg-llminit recommend RUN --user ID               top-10 items from a finished run
      pyg-llminit evaluate RUN                          a finished run's metrics again

    \b
    Exit codes (every failure but a bug ends in one 'error:' line):
    EXIT_CODES_TABLE"""
    if verbose and quiet:
        raise click.UsageError('--verbose and --quiet ask for opposite things: give one')
    # environment variables, so compare's worker processes inherit them
    if verbose:
        os.environ['PYG_LLMINIT_VERBOSE'] = '1'
    if quiet:
        os.environ['PYG_LLMINIT_QUIET'] = '1'


cli.help = cli.help.replace('EXIT_CODES_TABLE', '  ' + '\n      '.join(  # one list for all
    f'{code:<3} {meaning}' for code, meaning in EXIT_CODES.items()))

for command in (train_command, compare_command, evaluate_command, recommend_command,
                export_command, report_command, embed_command,
                stats_command, tune_command):
    cli.add_command(command)


def _distributed_failure(error: RuntimeError) -> bool:
    r"""Whether ``error`` is torch.distributed (gloo, NCCL) reporting a peer that vanished."""
    import torch.distributed as dist
    if isinstance(error, dist.DistError):
        return True
    text = str(error)
    return (dist.is_available() and dist.is_initialized()
            and any(w in text for w in ('gloo', 'NCCL', 'Connection reset', 'Connection closed')))


#: A full disk, a read-only file system, missing permissions, a quota: the machine's state,
#: not a bug, so one line rather than a traceback.
_STORAGE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}


def main(argv: Optional[List[str]] = None) -> None:
    r"""Entry point: user mistakes end in one ``error:`` line and the exit code of their
    kind (:data:`~pyg_llminit.errors.EXIT_CODES`); Ctrl-C and SIGTERM (torchrun stopping
    the ranks after one failed) leave no half-written file."""
    if int(os.environ.get('WORLD_SIZE', '1')) <= 1:
        return _run(argv)
    from ..training.distributed import exit_rank
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
    previous = interrupt_on_sigterm()
    try:
        _report_errors(argv, rank)
    except (KeyboardInterrupt, click.exceptions.Abort):  # also while another error is
        # reported: torchrun's SIGTERM often lands while a rank handles a dead peer's error
        click.echo(f'error: {rank}interrupted; files already in the run folder are complete, '
                   'nothing was half-written', err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report_errors(argv: Optional[List[str]], rank: str) -> None:
    r"""Runs the command; a user mistake, a full disk or a dead peer ends in one line."""
    try:
        cli.main(args=argv, prog_name='pyg-llminit', standalone_mode=False)
    except UserInputError as e:  # the library names parameters; show the flags
        click.echo(f'error: {rank}{e.in_terms_of(flag)}', err=True)
        sys.exit(e.exit_code)
    except OSError as e:
        if e.errno not in _STORAGE_ERRORS:
            raise  # not the disk: keep the traceback
        where = f' {e.filename}' if e.filename else ''
        click.echo(f'error: {rank}cannot write{where}: {e.strerror}; the files written '
                   'before are complete, nothing was half-written', err=True)
        sys.exit(StorageError.exit_code)
    except click.exceptions.Abort:  # a RuntimeError: let _run report it as an interrupt
        raise
    except RuntimeError as e:
        if not _distributed_failure(e):
            raise  # a bug, not a peer that died: keep the traceback
        click.echo(f'error: {rank}distributed training stopped (did another rank fail?): '
                   f'{first_line(e)}', err=True)
        sys.exit(1)
    except click.ClickException as e:  # a bad flag or value: one line, like ours
        hint = (f" (see '{e.ctx.command_path} --help')"
                if isinstance(e, click.UsageError) and e.ctx is not None else '')
        click.echo(f'error: {e.format_message()}{hint}', err=True)
        sys.exit(e.exit_code)


__all__ = ['cli', 'main']
