"""``pyg-llminit train``: the flags of one experiment, mapped onto
:class:`~pyg_llminit.experiment.ExperimentConfig` and run by
:func:`~pyg_llminit.experiment.run_experiment`."""
from typing import Optional, Tuple

import click
from click.core import ParameterSource

from .. import catalog
from ..errors import UserInputError
from .config_file import config_callback, model_options_of
from .options import (DEVICE_HELP, ENCODER_HELP, GRAPH_HELP, ROOT_HELP, parse_fanout,
                      parse_topk, parse_user_groups)


@click.command('train')
@click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP)
@click.option('--model', type=click.Choice(list(catalog.MODELS)), default='lightgcn',
              show_default=True,
              help="Backbone: LightGCN, SGL (edge-dropout views + InfoNCE), SGCL (one "
              "supervised contrastive loss), MF (BPR), NGCF, SimGCL, XSimGCL.")
@click.option('--model-option', 'model_options', multiple=True, metavar='KEY=VALUE',
              help="A backbone hyper-parameter, repeatable: e.g. 'ssl_weight=0.1' (SGL: "
              "ssl_tau, ssl_weight, drop_ratio; SGCL: tau; SimGCL/XSimGCL: cl_weight, eps, "
              "cl_tau, cl_layer; NGCF: message_dropout).")
@click.option('--config', type=click.Path(dir_okay=False), is_eager=True, expose_value=False,
              callback=config_callback, help='TOML (or .json) file of options, e.g. '
              "model = \"sgl\" and a [model_options] table; command-line options win.")
@click.option('--init', 'init', type=click.Choice(list(catalog.INITS)), default='none',
              show_default=True,
              help="Embedding initialisation: 'none' is the backbone's own (the baseline); "
              "the others are LLMInit's index sampling of the item text embedding "
              "('variance' is the paper's best), 'pca' a projection, 'full' all dims.")
@click.option('--encoder', default='minilm', show_default=True,
              help='Text model for --init: ' + ENCODER_HELP)
@click.option('--text-fields', default='title', show_default=True,
              help="Item text for --init: comma-separated fields (e.g. 'title,brand').")
@click.option('--text-template', default=None,
              help="Item text as a format string, e.g. '{title} by {brand}' (overrides "
              '--text-fields).')
@click.option('--popular-ratio', default=0.2, show_default=True,
              help="Share of most popular training items for --init variance.")
@click.option('--init-scale', default='none', show_default=True,
              help="Rescale LLMInit features: 'none' (as in the paper), 'xavier' (the "
              "backbone's own init std) or a target std.")
@click.option('--dim', default=128, show_default=True, help='Embedding size d.')
@click.option('--layers', default=2, show_default=True, help='Propagation layers.')
@click.option('--epochs', default=300, show_default=True,
              help='Maximum epochs (early stopping usually ends sooner).')
@click.option('--patience', default=10, show_default=True,
              help='Stop after this many epochs without a better validation metric...')
@click.option('--warmup', default=30, show_default=True,
              help='... counted only after this many epochs: an early dip of the '
              'validation curve (common for randomly initialised backbones) cannot stop a '
              'run, which lasts at least warmup + patience epochs.')
@click.option('--batch-size', default=2048, show_default=True, help='BPR batch size.')
@click.option('--loader', type=click.Choice(list(catalog.LOADERS)), default='full',
              show_default=True, help="'full': every step propagates over the whole graph "
              "(fastest where it fits); 'neighbor': PyG's LinkNeighborLoader samples a "
              'subgraph per batch, so memory per step is bounded by --batch-size and --fanout.')
@click.option('--fanout', default=None, help="With --loader neighbor: neighbours sampled per "
              "layer, comma-separated, one value per layer (-1: all). Default 10 per layer.")
@click.option('--lr', default=1e-3, show_default=True, help='Adam learning rate.')
@click.option('--reg', default=1e-5, show_default=True,
              help='L2 weight on the batch ego embeddings.')
@click.option('--seed', default=2020, show_default=True, help='Seed of init, order, batches.')
@click.option('--device', default='auto', show_default=True, help=DEVICE_HELP)
@click.option('--deterministic', is_flag=True,
              help='Use only deterministic torch kernels '
              '(torch.use_deterministic_algorithms). On the CPU, runs with one seed are '
              'identical without it (tested) and it costs nothing measurable; on CUDA it '
              'avoids atomics at some cost in speed.')
@click.option('--out', default=None,
              help='Run folder (default: runs/<graph>-<model>-<init>-<time>).')
@click.option('--resume', default=None, metavar='RUN',
              help="Continue the interrupted run in this folder from its last epoch, with "
              "its own config.json (no other option but --root), exactly as if it had "
              "never stopped.")
@click.option('--overwrite', is_flag=True,
              help="Allow an --out folder that holds files; this run's files replace an "
              "earlier run's there (other files stay).")
@click.option('--topk', default='10,20', show_default=True, help='Cut-offs K of the metrics.')
@click.option('--monitor', default='ndcg@10', show_default=True,
              help='Validation metric for early stopping and model selection.')
@click.option('--user-groups', default='5,10,20', show_default=True,
              help="Also report test metrics per group of users by training interactions: "
              "upper bounds of the groups, e.g. '5,10,20' gives <=5, 6-10, 11-20, >20 "
              "(LLMInit's gains are said to be largest for sparse users); 'none' skips it.")
@click.option('--split', default='loo', show_default=True,
              help="'loo' (leave-one-out) or ratios 'train,val,test' such as '0.8,0.1,0.1'.")
@click.option('--order', type=click.Choice(list(catalog.ORDERS)), default='time',
              show_default=True, help="Order of each user's history for the split "
              "('random' with --seed reproduces the LLMInit authors' variant).")
@click.option('--root', default=None, help=ROOT_HELP)
@click.option('--force-reload', is_flag=True,
              help="Process the graph's raw files again instead of reading its cache.")
@click.option('--min-rating', type=float, default=None,
              help='Keep interactions rated at least this (default: the graph\'s own, '
              '4 for the Amazon 2014 categories).')
@click.option('--k-core', type=int, default=None,
              help='k-core filter (default: the graph\'s own, 5 for Amazon 2014).')
def train_command(graph: str, model: str, model_options: Tuple[str, ...], init: str,
                  encoder: str, text_fields: str, text_template: Optional[str],
                  popular_ratio: float, init_scale: str, dim: int, layers: int, epochs: int,
                  patience: int, warmup: int, batch_size: int, loader: str,
                  fanout: Optional[str], lr: float, reg: float, seed: int, device: str,
                  deterministic: bool,
                  out: Optional[str], resume: Optional[str], overwrite: bool, topk: str, monitor: str,
                  user_groups: str, split: str, order: str, root: Optional[str],
                  force_reload: bool, min_rating: Optional[float],
                  k_core: Optional[int]) -> None:
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
    from ..experiment import ExperimentConfig, resume_run, run_experiment
    from ..training import TrainConfig
    from ..training.allocator import retain_freed_memory
    retain_freed_memory()  # no page faults for every step's fresh [N, d] buffers
    if resume is not None:
        ctx = click.get_current_context()
        given = [f'--{name.replace("_", "-")}' for name in ctx.params
                 if name not in ('resume', 'root', 'force_reload') and ctx.get_parameter_source(name)
                 not in (ParameterSource.DEFAULT, None)]
        if given:
            raise UserInputError(f'--resume continues a run with its own config.json: '
                                 f'drop {", ".join(given)}')
        resume_run(resume, root, log=click.echo)
        return
    train = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience,
                        warmup=warmup, monitor=monitor, topk=parse_topk(topk), seed=seed,
                        device=device, loader=loader, fanout=parse_fanout(fanout),
                        user_groups=parse_user_groups(user_groups),
                        deterministic=deterministic)
    config = ExperimentConfig(
        graph=graph, min_rating=min_rating, k_core=k_core, split=split, order=order,
        model=model, embedding_dim=dim, num_layers=layers, reg_weight=reg,
        model_options=model_options_of(click.get_current_context(), model_options),
        init=init, encoder=encoder, text_fields=text_fields, text_template=text_template,
        popular_ratio=popular_ratio, init_scale=init_scale, train=train)
    run_experiment(config, out, root, log=click.echo, overwrite=overwrite,
                   force_reload=force_reload)
