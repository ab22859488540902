"""``pyg-llminit tune``: the same Optuna search for every arm, on validation only, run by
:func:`~pyg_llminit.experiment.tune.tune`; ``compare --params DIR`` then trains each arm
with its own best setting."""
from typing import Any, Optional

import click

from .compare import names
from .experiment_options import experiment_config, experiment_options
from .options import models_option, say


@click.command('tune')
@models_option
@click.option('--inits', default='none,variance', show_default=True,
              help="Initialisations, comma-separated: each one an arm tuned on its own.")
@click.option('--trials', type=int, default=20, show_default=True,
              help='Trials per arm, each a full training with early stopping; the same '
              'for every arm. Running again with more adds trials.')
@click.option('--sampler-seed', type=int, default=0, show_default=True,
              help="Seed of every arm's TPE sampler: the arms' first (random) trials try "
              'the same settings.')
@click.option('--seed', default=2020, show_default=True,
              help='Training seed of every trial (init, negatives, batches).')
@experiment_options
@click.option('--out', required=True,
              help='The tuning folder: optuna.journal (resumable), trials/ (one run folder '
              'per trial), tuned.json and tune.md (each arm\'s best setting).')
def tune_command(models: str, inits: str, trials: int, sampler_seed: int, seed: int,
                 out: str, root: Optional[str], **options: Any) -> None:
    """Tune every arm with the same search, on validation only.

    Each arm (backbone x init) gets its own Optuna TPE study over the Adam learning rate
    (1e-4..1e-2), the L2 weight (1e-7..1e-2) and its backbone's own knobs (SGL's ssl_weight
    and ssl_tau, SGCL's tau, SimGCL's cl_weight and eps, NGCF's dropout), the same number of
    trials, and picks its best trial by the validation metric (--monitor); test metrics
    are recorded, never used to choose. Ctrl-C and running again resume. Then
    'compare --params OUT' trains every arm with its own best setting over several seeds.

    \b
    Examples:
      pyg-llminit tune --graph amazon --inits none,variance --trials 20 --out tuned
      pyg-llminit compare --graph amazon --inits none,variance --params tuned --out cmp
      pyg-llminit tune --graph ml-100k --models sgl --trials 30 --out tuned-sgl
    """
    from ..experiment.tune import tune
    model_names, init_names = names(models), names(inits)
    base = experiment_config(model=model_names[0], init=init_names[0], seed=seed, **options)
    tune(base, model_names, init_names, trials, out, sampler_seed=sampler_seed, root=root,
         log=say)
