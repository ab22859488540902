"""``pyg-llminit train``: options, run folder and the whole run (statistics, training with
early stopping, results table, ``results.json``)."""
import os
import time
from pathlib import Path
from typing import Optional, Tuple

import click
import torch

from .config import config_callback, model_options_of
from .errors import UserInputError
from .options import GRAPH_HELP, parse_fanout, parse_topk, parse_user_groups
from .report import groups_table, results_table, stats_table

MODELS = ['lightgcn', 'sgl', 'sgcl', 'mf', 'ngcf', 'simgcl', 'xsimgcl']
INITS = ['none', 'random', 'uniform', 'variance', 'pca', 'full']


def run_folder(out: Optional[str], graph: str, model: str, init: str) -> Path:
    r"""The run folder, checked for writability but not created yet: a run that fails
    before training (bad graph, bad init) leaves nothing behind."""
    if out is None:
        stamp = time.strftime('%Y%m%d-%H%M%S')
        name = Path(graph).name if Path(graph).exists() else graph
        out = str(Path('runs') / f'{name}-{model}-{init}-{stamp}')
    path = Path(out).absolute()
    existing = next(p for p in [path, *path.parents] if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UserInputError(f'--out {out}: cannot write there ({existing} is not a '
                             f'writable folder)')
    return path


@click.command('train')
@click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP)
@click.option('--model', type=click.Choice(MODELS), default='lightgcn', show_default=True,
              help="Backbone: LightGCN, SGL (edge-dropout views + InfoNCE), SGCL (one "
              "supervised contrastive loss), MF (BPR), NGCF, SimGCL, XSimGCL.")
@click.option('--model-option', 'model_options', multiple=True, metavar='KEY=VALUE',
              help="A backbone hyper-parameter, repeatable: e.g. 'ssl_weight=0.1' (SGL: "
              "ssl_tau, ssl_weight, drop_ratio; SGCL: tau; SimGCL/XSimGCL: cl_weight, eps, "
              "cl_tau, cl_layer; NGCF: message_dropout).")
@click.option('--config', type=click.Path(dir_okay=False), is_eager=True, expose_value=False,
              callback=config_callback, help='TOML (or .json) file of options, e.g. '
              "model = \"sgl\" and a [model_options] table; command-line options win.")
@click.option('--init', 'init', type=click.Choice(INITS), default='none', show_default=True,
              help="Embedding initialisation: 'none' is the backbone's own (the baseline); "
              "the others are LLMInit's index sampling of the item text embedding "
              "('variance' is the paper's best), 'pca' a projection, 'full' all dims.")
@click.option('--encoder', default='minilm', show_default=True,
              help="Text model for --init: 'minilm', 'smollm2', 'gemma3-270m', a folder or "
              'a Hugging Face id.')
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
              help='Stop after this many epochs without a better validation metric.')
@click.option('--batch-size', default=2048, show_default=True, help='BPR batch size.')
@click.option('--loader', type=click.Choice(['full', 'neighbor']), default='full',
              show_default=True, help="'full': every step propagates over the whole graph "
              "(fastest where it fits); 'neighbor': PyG's LinkNeighborLoader samples a "
              'subgraph per batch, so memory per step is bounded by --batch-size and --fanout.')
@click.option('--fanout', default=None, help="With --loader neighbor: neighbours sampled per "
              "layer, comma-separated, one value per layer (-1: all). Default 10 per layer.")
@click.option('--lr', default=1e-3, show_default=True, help='Adam learning rate.')
@click.option('--reg', default=1e-5, show_default=True,
              help='L2 weight on the batch ego embeddings.')
@click.option('--seed', default=2020, show_default=True, help='Seed of init, order, batches.')
@click.option('--device', default='auto', show_default=True,
              help="'cpu', 'cuda', 'cuda:1', or 'auto'.")
@click.option('--out', default=None,
              help='Run folder (default: runs/<graph>-<model>-<init>-<time>).')
@click.option('--topk', default='10,20', show_default=True, help='Cut-offs K of the metrics.')
@click.option('--monitor', default='ndcg@10', show_default=True,
              help='Validation metric for early stopping and model selection.')
@click.option('--user-groups', default='5,10,20', show_default=True,
              help="Also report test metrics per group of users by training interactions: "
              "upper bounds of the groups, e.g. '5,10,20' gives <=5, 6-10, 11-20, >20 "
              "(LLMInit's gains are said to be largest for sparse users); 'none' skips it.")
@click.option('--split', default='loo', show_default=True,
              help="'loo' (leave-one-out) or ratios 'train,val,test' such as '0.8,0.1,0.1'.")
@click.option('--order', type=click.Choice(['time', 'random']), default='time',
              show_default=True, help="Order of each user's history for the split "
              "('random' with --seed reproduces the LLMInit authors' variant).")
@click.option('--root', default=None, help='Cache folder for processed graphs.')
@click.option('--min-rating', type=float, default=None,
              help='Keep interactions rated at least this (default: the graph\'s own, '
              '4 for the Amazon 2014 categories).')
@click.option('--k-core', type=int, default=None,
              help='k-core filter (default: the graph\'s own, 5 for Amazon 2014).')
def train_command(graph: str, model: str, model_options: Tuple[str, ...], init: str,
                  encoder: str, text_fields: str, text_template: Optional[str],
                  popular_ratio: float, init_scale: str, dim: int, layers: int, epochs: int,
                  patience: int, batch_size: int, loader: str, fanout: Optional[str],
                  lr: float, reg: float, seed: int, device: str, out: Optional[str],
                  topk: str, monitor: str, user_groups: str, split: str, order: str,
                  root: Optional[str], min_rating: Optional[float],
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
      torchrun --nproc-per-node 2 -m pyg_llminit train --graph amazon   (DDP, 2 processes)
    """
    from .datasets import load_graph
    from .datasets.graph import ITEM, USER, graph_statistics
    from .distributed import launched_by_torchrun, rank_zero_first, setup
    from .io import write_json
    from .models import build_model
    from .split import parse_split
    from .train import TrainConfig, Trainer

    rank, world = 0, 1
    if launched_by_torchrun():  # torchrun: join the group; rank 0 alone prints and writes
        rank, world, device = setup(device)
    echo = click.echo if rank == 0 else (lambda *args, **kwargs: None)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience,
                         monitor=monitor, topk=tuple(parse_topk(topk)), seed=seed,
                         device=device, loader=loader, fanout=parse_fanout(fanout),
                         user_groups=parse_user_groups(user_groups))
    if dim < 1 or layers < 0:
        raise UserInputError(f'--dim must be >= 1 and --layers >= 0 (got {dim}, {layers})')
    hyper = model_options_of(click.get_current_context(), model_options)
    build_model(model, 1, 1, embedding_dim=dim, num_layers=layers, reg_weight=reg, **hyper)
    splitter = parse_split(split, order=order, seed=seed)
    out_dir = run_folder(out, graph, model, init)

    def prepare():  # under torchrun: rank 0 first, the others then read its caches
        data = load_graph(graph, root, min_rating=min_rating, k_core=k_core)
        echo(f'graph {graph}')
        echo(stats_table(graph_statistics(data)))
        train_data, val_data, test_data = splitter(data)
        echo(f'split {splitter}: train {train_data["user", "rates", "item"].num_edges:,}, '
             f'valid {val_data["user", "rates", "item"].edge_label_index.size(1):,}, '
             f'test {test_data["user", "rates", "item"].edge_label_index.size(1):,}')
        features = None
        if init != 'none':
            from .initialize import describe, llminit_features
            features = llminit_features(
                train_data, init, None if init == 'full' else dim, encoder,
                text_fields, text_template, popular_ratio, init_scale, seed)
            echo(f'{features[2]}; {describe(features[0], features[1])}')
        return train_data, val_data, test_data, features

    train_data, val_data, test_data, features = rank_zero_first(prepare, device)
    user_x = item_x = None
    if features is not None:
        user_x, item_x, _ = features
        dim = item_x.size(1)
    torch.manual_seed(seed)
    net = build_model(model, train_data[USER].num_nodes, train_data[ITEM].num_nodes,
                      embedding_dim=dim, num_layers=layers, reg_weight=reg, **hyper)
    if item_x is not None:
        net.init_from_x(user_x, item_x)
    echo(f'model {net}')
    resolved = {'graph': graph, 'min_rating': min_rating, 'k_core': k_core, 'model': model,
                'model_options': hyper, 'world_size': world, 'init': init,
                'encoder': encoder if init != 'none' else None, 'text_fields': text_fields,
                'text_template': text_template, 'popular_ratio': popular_ratio,
                'init_scale': init_scale, 'dim': dim, 'layers': layers, 'reg': reg,
                'split': split, 'order': order, 'out': str(out_dir),
                **{k: list(v) if isinstance(v, tuple) else v
                   for k, v in vars(config).items()}}
    trainer = Trainer(net, train_data, val_data, test_data, config, out_dir, log=echo)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / 'config.json', resolved)
    results = trainer.fit()
    if rank != 0:
        return
    echo('')
    echo(results_table(results))
    if 'test_by_user_degree' in results:
        echo('\ntest by training interactions per user')
        echo(groups_table(results['test_by_user_degree']))
    echo(f'{results["epochs_run"]} epochs, {results["train_seconds"]:.0f} s '
         f'({results["seconds_per_epoch"]:.1f} s/epoch incl. validation) on '
         f'{trainer.device}; run folder {out_dir}')
    write_json(out_dir / 'results.json', {'config': resolved, **results})
