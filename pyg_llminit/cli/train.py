"""``pyg-llminit train``: the flags of one experiment, mapped onto
:class:`~pyg_llminit.experiment.ExperimentConfig` and run by
:func:`~pyg_llminit.experiment.run_experiment`."""
import dataclasses
from typing import Any, Optional, Tuple

import click
from click.core import ParameterSource

from .. import catalog
from ..errors import UserInputError
from .experiment_options import experiment_config, experiment_options
from .options import logger_option, say


@click.command('train')
@click.option('--model', type=click.Choice(list(catalog.MODELS)), default='lightgcn',
              show_default=True,
              help="Backbone: LightGCN, SGL (edge-dropout views + InfoNCE), SGCL (one "
              "supervised contrastive loss), MF (BPR), NGCF, SimGCL, XSimGCL.")
@click.option('--init', 'init', type=click.Choice(list(catalog.INITS)), default='none',
              show_default=True,
              help="Embedding initialisation: 'none' is the backbone's own (the baseline); "
              "the others are LLMInit's index sampling of the item text embedding "
              "('variance' is the paper's best; 'random' draws with replacement as the "
              "authors' code, 'random-distinct' without), 'pca' a projection, 'full' all "
              "dims.")
@click.option('--seed', default=2020, show_default=True, help='Seed of init, order, batches.')
@click.option('--split-seed', type=int, default=None,
              help="Seed of the split where it is random (--order random, --split "
              "cold-items:...), so that runs with other --seed values share one split "
              "(default: --seed).")
@experiment_options
@click.option('--out', default=None,
              help='Run folder (default: runs/<graph>-<model>-<init>-<time>).')
@click.option('--resume', default=None, metavar='RUN',
              help="Continue the interrupted run in this folder from its last epoch, with "
              "its own config.json (no other option but --root), exactly as if it had "
              "never stopped.")
@click.option('--overwrite', is_flag=True,
              help="Allow an --out folder that holds files: the new run is written beside "
              "it and takes its place once its first epoch is on disk (files that are not a "
              "run's stay); a run that fails or is killed before leaves the earlier one as "
              "it was.")
@logger_option
@click.option('--force-reload', is_flag=True,
              help="Process the graph's raw files again instead of reading its cache.")
def train_command(out: Optional[str], resume: Optional[str], overwrite: bool,
                  force_reload: bool, root: Optional[str], split_seed: Optional[int],
                  loggers: Tuple[str, ...], **options: Any) -> None:
    """Train and evaluate a recommender; write a run folder.

    Prints the graph's statistics, one line per epoch (time, loss, validation metric) and a
    final table (best validation epoch, test, and the most-popular baseline on test),
    then test per group of users by number of training interactions. The
    run folder holds config.json, history.json (per epoch), best.pt (weights of the best
    validation epoch; load with torch.load(..., weights_only=True)) and results.json.

    \b
    Examples:
      pyg-llminit train --graph amazon
      pyg-llminit train --graph amazon --init variance
      pyg-llminit train --graph amazon --model sgl --model-option ssl_weight=0.1
      pyg-llminit train --config my-run.toml --seed 2021
      pyg-llminit train --graph amazon --epochs 20 --out runs/quick
      pyg-llminit train --graph amazon --split 0.8,0.1,0.1 --order random --seed 1
      pyg-llminit train --resume runs/quick          (after a crash or Ctrl-C)
      torchrun --nproc-per-node 2 -m pyg_llminit train --graph amazon   (DDP, 2 processes)
    """
    from ..experiment import resume_run, run_experiment
    from ..training.allocator import retain_freed_memory
    retain_freed_memory()  # no page faults for every step's fresh [N, d] buffers
    if resume is not None:
        ctx = click.get_current_context()
        given = [f'--{name.replace("_", "-")}' for name in ctx.params
                 if name not in ('resume', 'root', 'force_reload')
                 and ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
        if given:
            raise UserInputError(f'--resume continues a run with its own config.json: '
                                 f'drop {", ".join(given)}')
        resume_run(resume, root, log=say)
        return
    config = experiment_config(**options)
    if split_seed is not None:
        config = dataclasses.replace(config, split_seed=split_seed)
    run_experiment(config, out, root, log=say, overwrite=overwrite,
                   force_reload=force_reload, loggers=loggers)
