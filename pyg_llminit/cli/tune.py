"""``pyg-llminit tune``: the same Optuna search for every arm, on validation only, run by
:func:`~pyg_llminit.experiment.tune.tune`; ``compare --params DIR`` then trains each arm
with its own best setting."""
from typing import Any, Optional

import click

from .. import catalog
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

    Each arm (backbone x init) gets its own Optuna TPE study over SEARCH_SPACE, the same
    number of trials, and picks its best trial by the validation metric (--monitor); test metrics
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


def _space_text() -> str:
    r"""The search space, as the catalog declares it, in words for ``--help``."""
    def ranges(space):
        return ', '.join(f'{name} {low:g}..{high:g}' for name, (low, high, _) in space.items())
    own = '; '.join(f'{model}: {ranges(space)}' for model, space in
                    catalog.MODEL_TUNE_SPACE.items())
    return f'{ranges(catalog.TUNE_SPACE)}, plus each backbone\'s own knobs ({own})'


tune_command.help = tune_command.help.replace('SEARCH_SPACE', _space_text())
