"""``pyg-llminit compare``: arms (backbones x initialisations) x seeds on one graph and
split, run by :func:`~pyg_llminit.experiment.compare`."""
from typing import Any, Optional, Tuple

import click

from .experiment_options import experiment_config, experiment_options
from .options import logger_option, models_option, parse_ints, say


def names(value: str):
    r"""The items of a comma-separated option (none for an empty one)."""
    return [v.strip() for v in value.split(',')] if value.strip() else []


@click.command('compare')
@click.option('--inits', default='none,variance', show_default=True,
              help="Initialisations to compare, comma-separated: 'none' (the backbone's "
              "own) and any of LLMInit's (uniform, variance, random, random-distinct, pca, full).")
@models_option
@click.option('--seeds', default='2020,2021,2022', show_default=True,
              help='Training seeds (init, negatives, batches); every seed trains every arm, '
              'and all share one split (--split-seed).')
@click.option('--baseline', default='none', show_default=True,
              help="The reference: an init (each backbone against its own arm of it) or one "
              "arm 'model/init' for all.")
@click.option('--split-seed', default=2020, show_default=True,
              help='Seed of a random-order split, the same for every run.')
@experiment_options
@click.option('--out', required=True,
              help='Folder of the comparison: one run folder per arm and seed under runs/, '
              'then compare.md, compare.json, curves.png and groups.png. Run the same '
              'command again to resume an interrupted comparison or add arms and seeds.')
@click.option('--encoders', default='', metavar='A,B',
              help="Text models to compare, comma-separated (presets, folders or Hugging "
              "Face ids): each LLMInit arm is trained once per model, named "
              "'model/init@encoder'; those of --encoder keep their plain names, so a "
              "finished comparison's folder can be extended with more models.")
@click.option('--params', default=None, metavar='TUNED',
              help="A 'pyg-llminit tune' folder of the same experiment: each arm trains "
              "with its own best setting found there (lr, L2 weight, backbone knobs).")
@logger_option
@click.option('--jobs', default=1, show_default=True,
              help='Trainings at once, in worker processes sharing the CPU threads (their '
              'output goes to OUT/logs/).')
def compare_command(inits: str, models: str, seeds: str, baseline: str, split_seed: int,
                    out: str, jobs: int, root: Optional[str], loggers: Tuple[str, ...],
                    encoders: str, params: Optional[str], **options: Any) -> None:
    """Compare initialisations (and backbones) over several seeds.

    Trains every arm with every seed on one graph, one split, one budget and one
    stopping rule (finished runs in --out are reused), then writes per arm: test metrics
    (mean +- std over seeds), the gain over the baseline, a paired t-test over users,
    how many epochs and seconds the arm needs to reach the baseline's best validation
    score, and metrics per user group; with plots of the validation curves and the groups.

    \b
    Examples:
      pyg-llminit compare --graph amazon --out comparisons/beauty
      pyg-llminit compare --inits none,random,uniform,variance --seeds 1,2,3 --out cmp
      pyg-llminit compare --models lightgcn,sgl --inits none,variance --jobs 2 --out cmp
      pyg-llminit compare --graph ml-100k --baseline lightgcn/none --out cmp-ml
      pyg-llminit compare --encoders minilm,smollm2 --normalize minmax --out cmp-lm
    """
    import dataclasses

    from ..experiment import compare
    from ..experiment.plan import check_seeds, plan_arms
    model_names, init_names, encoder_names = names(models), names(inits), names(encoders)
    # a bad list fails before anything else
    plan_arms(model_names, init_names, baseline, encoder_names, options.get('encoder'))
    seed_list = check_seeds(parse_ints('--seeds', seeds) if seeds.strip() else [])
    # the base's init is replaced per arm; an LLMInit one lets --embedding be checked
    base_init = next((i for i in init_names if i != 'none'), 'none')
    base = experiment_config(model=model_names[0], init=base_init, seed=seed_list[0],
                             **options)
    compare(dataclasses.replace(base, split_seed=split_seed), model_names, init_names,
            seed_list, out, baseline=baseline, jobs=jobs, root=root, log=say,
            loggers=loggers, encoders=encoder_names, params=params)
