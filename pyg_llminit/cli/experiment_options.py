"""The options of one experiment that ``train`` and ``compare`` share (graph, split, model
sizes, text recipe, budget, stopping, evaluation), and the config they build."""
from typing import Any, Callable, Dict, Optional

import click
from click.core import ParameterSource

from .. import catalog
from .config_file import config_callback, model_options_of
from .options import (DEVICE_HELP, ENCODER_HELP, GRAPH_HELP, ROOT_HELP, flag,
                      parse_fanout, parse_item_groups, parse_topk, parse_user_groups)


def protocol_options(name: str) -> Dict[str, Any]:
    r"""The settings of protocol :obj:`name` as ``{option parameter name: value}``."""
    preset = dict(catalog.PROTOCOLS[name])
    preset.update(preset.pop('train', {}))
    return {flag(key)[2:].replace('-', '_'): value for key, value in preset.items()}


def protocol_flags(name: str) -> str:
    r"""Protocol :obj:`name` as the command-line flags it stands for (its help text)."""
    return ' '.join(('--' if value else '--no-') + key.replace('_', '-')
                    if isinstance(value, bool) else f"--{key.replace('_', '-')} {value:g}"
                    if isinstance(value, float) else f"--{key.replace('_', '-')} {value}"
                    for key, value in protocol_options(name).items())


def protocol_callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    r"""Eager ``--protocol`` callback: the preset's values become the command's defaults
    (a config file's values and the command line win)."""
    ctx.default_map = {**protocol_options(value), **(ctx.default_map or {})}
    ctx.meta['protocol'] = value
    return value


OPTIONS = [
    click.option('--graph', default='amazon', show_default=True, help=GRAPH_HELP),
    click.option('--protocol', type=click.Choice(list(catalog.PROTOCOLS)), default='default',
                 show_default=True, is_eager=True, expose_value=False,
                 callback=protocol_callback,
                 help="A preset of the options below. 'paper': the LLMInit authors' RecBole "
                 f"setting: {protocol_flags('paper')} (given options win; the rating "
                 "filter only where the graph has ratings). "
                 "'default': time order, batch 2048, negatives outside the user's items, "
                 "seen items masked in evaluation."),
    click.option('--model-option', 'model_options', multiple=True, metavar='KEY=VALUE',
                 help="A backbone hyper-parameter, repeatable: e.g. 'ssl_weight=0.1' (SGL: "
                 "ssl_tau, ssl_weight, drop_ratio; SGCL: tau; SimGCL/XSimGCL: cl_weight, eps, "
                 "cl_tau, cl_layer; NGCF: message_dropout)."),
    click.option('--config', type=click.Path(dir_okay=False), is_eager=True, expose_value=False,
                 callback=config_callback, help='TOML (or .json) file of options, e.g. '
                 "model = \"sgl\" and a [model_options] table; command-line options win."),
    click.option('--encoder', default='minilm', show_default=True,
                 help='Text model for --init: ' + ENCODER_HELP),
    click.option('--encoder-device', default='auto', show_default=True,
                 help='Where the text model encodes the items: ' + DEVICE_HELP),
    click.option('--text-fields', default='title', show_default=True,
                 help="Item text for --init: comma-separated fields (e.g. 'title,brand')."),
    click.option('--text-template', default=None,
                 help="Item text as a format string, e.g. '{title} by {brand}' (overrides "
                 '--text-fields).'),
    click.option('--embedding', 'embedding_file', default=None, metavar='FILE',
                 help='Item vectors made elsewhere (any model or API) instead of encoding '
                 'the texts: a .csv/.tsv (item id, then values) or .npz (ids, embedding), '
                 'matched by item id, or a .safetensors/.pt in the graph\'s item order '
                 '(pyg-llminit embed). Checked for missing items and non-finite values.'),
    click.option('--popular-ratio', default=0.2, show_default=True,
                 help="Share of most popular training items for --init variance."),
    click.option('--init-scale', default='none', show_default=True,
                 help="Rescale LLMInit features: 'none' (their own scale), 'xavier' (the "
                 "backbone's own init std) or a target std."),
    click.option('--normalize', type=click.Choice(list(catalog.NORMALIZATIONS)),
                 default='none', show_default=True,
                 help="Item text embedding before LLMInit selects its dimensions: "
                 "'minmax' maps all its values to [0, 1] by its global min and max, as the "
                 "authors' code does (RecBole's normalize_all); 'none' keeps the encoder's "
                 "values. --protocol paper sets minmax."),
    click.option('--dim', default=128, show_default=True, help='Embedding size d.'),
    click.option('--layers', default=2, show_default=True, help='Propagation layers.'),
    click.option('--epochs', default=300, show_default=True,
                 help='Maximum epochs (early stopping usually ends sooner).'),
    click.option('--patience', default=10, show_default=True,
                 help='Stop after this many epochs without a better validation metric...'),
    click.option('--warmup', default=30, show_default=True,
                 help='... counted only after this many epochs: an early dip of the '
                 'validation curve (common for randomly initialised backbones) cannot stop a '
                 'run, which lasts at least warmup + patience epochs.'),
    click.option('--batch-size', default=2048, show_default=True, help='BPR batch size.'),
    click.option('--loader', type=click.Choice(list(catalog.LOADERS)), default='full',
                 show_default=True, help="'full': every step propagates over the whole graph "
                 "(fastest where it fits); 'neighbor': PyG's LinkNeighborLoader samples a "
                 'subgraph per batch, so memory per step is bounded by --batch-size and --fanout.'),
    click.option('--fanout', default=None, help="With --loader neighbor: neighbours sampled per "
                 "layer, comma-separated, one value per layer (-1: all). Default 10 per layer."),
    click.option('--lr', default=1e-3, show_default=True, help='Adam learning rate.'),
    click.option('--reg', default=1e-5, show_default=True,
                 help='L2 weight on the batch ego embeddings.'),
    click.option('--device', default='auto', show_default=True, help=DEVICE_HELP),
    click.option('--deterministic', is_flag=True,
                 help='Use only deterministic torch kernels '
                 '(torch.use_deterministic_algorithms). On the CPU, runs with one seed are '
                 'identical without it (tested) and it costs nothing measurable; on CUDA it '
                 'avoids atomics at some cost in speed.'),
    click.option('--stopping', type=click.Choice(list(catalog.COUNTINGS)), default='strict',
                 show_default=True, help="How patience is counted: 'strict' (a better "
                 "score resets it; stop after --patience epochs without), 'recbole' (a tie "
                 "also resets it; stop after --patience + 1, as RecBole) or 'smoothed' "
                 "(patience counts from the best of the moving average over --patience "
                 "epochs: for small, noisy validation sets such as MovieLens-100K's; the "
                 "best raw epoch's weights are kept)."),
    click.option('--negatives', type=click.Choice(['seen', 'positive']), default='seen',
                 show_default=True, help="What a BPR negative must not be: any of the "
                 "user's training items, or only the triplet's positive (RecBole's "
                 "repeatable sampling)."),
    click.option('--mask-seen/--no-mask-seen', default=True, show_default=True,
                 help="Evaluation never ranks the user's training (and at test, validation) "
                 "items; --no-mask-seen ranks every item, as RecBole's repeatable "
                 "evaluation."),
    click.option('--topk', default='10,20', show_default=True, help='Cut-offs K of the metrics.'),
    click.option('--monitor', default='ndcg@10', show_default=True,
                 help='Validation metric for early stopping and model selection.'),
    click.option('--user-groups', default='5,10,20', show_default=True,
                 help="Also report test metrics per group of users by training interactions: "
                 "upper bounds of the groups, e.g. '5,10,20' gives <=5, 6-10, 11-20, >20 "
                 "(LLMInit's gains are said to be largest for sparse users); 'none' skips it."),
    click.option('--item-groups', default='0.2,0.5', show_default=True,
                 help="Also report test metrics per item-popularity group of the held-out "
                 "items: the shares of items (by training interactions) that end the head "
                 "and the torso, e.g. '0.2,0.5' gives the top 20%, the next 30% and the "
                 "tail 50%; 'none' skips it."),
    click.option('--split', default='loo', show_default=True,
                 help="'loo' (leave-one-out), ratios 'train,val,test' such as '0.8,0.1,0.1', "
                 "or 'cold-items:0.1': 10% of the items held out with all their "
                 "interactions (half validate, half test), scored from their text as new "
                 "items (see --cold-map), drawn with --split-seed."),
    click.option('--cold-map', type=click.Choice(['ridge', 'mlp']), default='ridge',
                 show_default=True, help="With --split cold-items: how a new item gets an "
                 "embedding, a map from its text embedding to the trained item embedding, "
                 "fitted on the warm items: closed-form ridge or a two-layer MLP. The other "
                 "map, the item's LLMInit vector, text similarity and random are reported "
                 "beside it."),
    click.option('--order', type=click.Choice(list(catalog.ORDERS)), default='time',
                 show_default=True, help="Order of each user's history for the split "
                 "('random' with --seed reproduces the LLMInit authors' variant)."),
    click.option('--root', default=None, help=ROOT_HELP),
    click.option('--min-rating', type=float, default=None,
                 help='Keep interactions rated at least this (default: the graph\'s own, '
                 '4 for the Amazon 2014 categories).'),
    click.option('--k-core', type=int, default=None,
                 help='k-core filter (default: the graph\'s own, 5 for Amazon 2014).'),
]


def experiment_options(command: Callable) -> Callable:
    r"""Adds :data:`OPTIONS` to a click command (in this order in its ``--help``)."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def experiment_config(model: str, init: str, seed: int, graph: str, model_options,
                      encoder: str, encoder_device: str, text_fields: str,
                      text_template: Optional[str],
                      popular_ratio: float, init_scale: str, normalize: str, dim: int,
                      layers: int,
                      epochs: int, patience: int, warmup: int, batch_size: int, loader: str,
                      fanout: Optional[str], lr: float, reg: float, device: str,
                      deterministic: bool, stopping: str, negatives: str,
                      mask_seen: bool, topk: str, monitor: str, user_groups: str,
                      item_groups: str, embedding_file: Optional[str],
                      split: str, cold_map: str, order: str, min_rating: Optional[float],
                      k_core: Optional[int], **unused: Any):
    r"""The :class:`~pyg_llminit.experiment.ExperimentConfig` of :data:`OPTIONS`' values
    and a backbone, init and seed."""
    from ..experiment import ExperimentConfig
    from ..experiment.config import preset_rating_filter
    from ..training import TrainConfig
    ctx = click.get_current_context()
    if ctx.meta.get('protocol', 'default') != 'default' and \
            ctx.get_parameter_source('min_rating') is ParameterSource.DEFAULT_MAP:
        min_rating, note = preset_rating_filter(graph, min_rating)  # not given: the preset's
        if note:
            click.echo(note)
    train = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience,
                        warmup=warmup, monitor=monitor, topk=parse_topk(topk), seed=seed,
                        device=device, loader=loader, fanout=parse_fanout(fanout),
                        user_groups=parse_user_groups(user_groups),
                        item_groups=parse_item_groups(item_groups),
                        deterministic=deterministic, stopping=stopping,
                        negatives=negatives, mask_seen=mask_seen)
    return ExperimentConfig(
        graph=graph, min_rating=min_rating, k_core=k_core, split=split, cold_map=cold_map,
        order=order,
        model=model, embedding_dim=dim, num_layers=layers, reg_weight=reg,
        model_options=model_options_of(click.get_current_context(), model_options),
        init=init, encoder=encoder, encoder_device=encoder_device, text_fields=text_fields,
        text_template=text_template,
        popular_ratio=popular_ratio, init_scale=init_scale, normalize=normalize,
        embedding_file=embedding_file,
        train=train)
