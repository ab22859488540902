"""The experiment pipeline, used alike by the command line, :func:`load_run` and the
benchmarks: :func:`prepare` (graph, split, LLMInit features), :func:`create_model` and
:func:`run_experiment` (both, then training, the results table and the run folder).

Example:
    >>> from pyg_llminit.experiment import ExperimentConfig, run_experiment
    >>> from pyg_llminit.training import TrainConfig
    >>> config = ExperimentConfig(graph='amazon', init='variance',
    ...                           train=TrainConfig(epochs=50))
    >>> results = run_experiment(config, out='runs/variance')
"""
import dataclasses
import os
from typing import (TYPE_CHECKING, Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Union)

import torch
from torch import Tensor

from ..errors import invalid
from ..evaluation.collapse import collapse_of
from .config import ExperimentConfig
from .runs import RunFolder
from .trackers import check_trackers, trackers_in

if TYPE_CHECKING:
    from pathlib import Path

    from torch_geometric.data import HeteroData

    from ..coldstart import ColdItemProtocol
    from ..models.base import Recommender
    from ..training import Trainer

Log = Callable[[str], None]


class Prepared(NamedTuple):
    r"""A loaded graph, its split, (for an LLMInit config) the initial user and item
    features ``[U, d]`` / ``[I, d]`` computed from the training graph only, and (where
    the config uses text) every item's text embedding ``[I, D]``."""
    data: 'HeteroData'
    train: 'HeteroData'
    val: 'HeteroData'
    test: 'HeteroData'
    user_x: Optional[Tensor] = None
    item_x: Optional[Tensor] = None
    item_text: Optional[Tensor] = None


def prepare(config: ExperimentConfig, root: Optional[str] = None, log: Log = print,
            embedding: Optional[Tensor] = None, features: bool = True,
            force_reload: bool = False) -> Prepared:
    r"""Loads the graph, prints its statistics, splits it and, for an LLMInit
    :obj:`config`, computes the initial features.

    Args:
        config (ExperimentConfig): The experiment.
        root (str, optional): Cache folder for processed graphs.
        log (callable): Receives the statistics and a line per step.
        embedding (Tensor, optional): Precomputed item embeddings ``[I, d_LLM]`` instead of
            encoding the item texts with ``config.encoder``.
        features (bool): Compute the LLMInit features (``False`` to rebuild a trained
            model, whose weights replace them anyway; a cold-item split, which scores new
            items with them, computes them always).
        force_reload (bool): Process the graph's raw files again, ignoring its cache.
    """
    from ..datasets import load_graph
    from ..datasets.graph import EDGE_TYPE, graph_statistics
    from ..datasets.registry import is_builtin_graph
    from ..devices import check_tables_fit
    from ..transforms.split import parse_split
    from .tables import stats_table
    if config.init not in ('none', 'full') and config.embedding_file is None:
        check_dim_fits_encoder(config.embedding_dim, config.encoder)
    data = load_graph(config.graph, root, force_reload, min_rating=config.min_rating,
                      k_core=config.k_core)
    if max(config.train.topk) > data['item'].num_nodes:  # before any text is encoded
        raise invalid('topk', f'cut-offs must lie in 1..{data["item"].num_nodes} (the '
                      f'items of {config.graph}), got {list(config.train.topk)}')
    if config.init != 'full':  # before any text is encoded or table allocated
        check_tables_fit(config.embedding_dim, data['user'].num_nodes +
                         data['item'].num_nodes, config.train.device)
    log(f'graph {config.graph}')
    if is_builtin_graph(config.graph) and os.path.exists(config.graph):
        log(f'note: {config.graph} is also a file or folder here; --graph '
            f'./{config.graph} reads it (the name alone means the built-in graph)')
    log(stats_table(graph_statistics(data)))
    seed = config.train.seed if config.split_seed is None else config.split_seed
    splitter = parse_split(config.split, order=config.order, seed=seed)
    train, val, test = splitter(data)
    log(f'split {splitter}: train {train[EDGE_TYPE].num_edges:,}, '
        f'valid {val[EDGE_TYPE].edge_label_index.size(1):,}, '
        f'test {test[EDGE_TYPE].edge_label_index.size(1):,}')
    if not ((features or config.cold_items) and config.uses_text):
        return Prepared(data, train, val, test)
    from .features import describe, item_text_embedding, llminit_features
    if embedding is None:
        embedding = item_text_embedding(config, data, train, log)
    if config.init == 'none':  # a cold-item split's text only
        return Prepared(data, train, val, test, item_text=embedding)
    user_x, item_x, transform = llminit_features(
        train, config.init, None if config.init == 'full' else config.embedding_dim,
        config.encoder, config.text_fields, config.text_template, config.popular_ratio,
        config.init_scale, config.train.seed, embedding=embedding,
        normalize=config.normalize)
    log(f'{transform}; {describe(user_x, item_x)}')
    return Prepared(data, train, val, test, user_x, item_x, embedding)


def cold_item_protocol(config: ExperimentConfig, prepared: Prepared,
                       k: Optional[Sequence[int]] = None, batch_size: Optional[int] = None,
                       user_groups: Optional[Sequence[int]] = ()
                       ) -> Optional['ColdItemProtocol']:
    r"""For a cold-item split, the validation and test of :obj:`prepared`'s (or a loaded
    :class:`~pyg_llminit.experiment.loading.Run`'s, which has the same fields) held-out
    items (see :mod:`pyg_llminit.coldstart`), with the config's cut-offs,
    batch size and user groups unless given; ``None`` for other splits."""
    if not config.cold_items:
        return None
    from ..coldstart import ColdItemProtocol
    train = config.train
    return ColdItemProtocol(prepared.train, prepared.val, prepared.test, prepared.item_text,
                            prepared.item_x, config.cold_map, k or train.topk,
                            batch_size or train.eval_batch_size,
                            train.user_groups if user_groups == () else user_groups,
                            seed=train.seed)


def check_dim_fits_encoder(dim: int, encoder: str) -> None:
    r"""LLMInit selects :obj:`dim` of the encoder's dimensions: for a preset, whose width is
    known without loading it, a :obj:`dim` wider than the encoder fails before any data is
    loaded (other encoders are checked once loaded)."""
    from ..text.presets import PRESETS
    preset = PRESETS.get(str(encoder).lower())
    if preset is not None and dim > preset.dim:
        raise invalid('embedding_dim', f'must be in [1, {preset.dim}]: LLMInit selects it '
                      f"from the {preset.dim} dimensions of '{preset.name}', got {dim} (or "
                      "--init full for all of them)")


def create_model(config: ExperimentConfig, prepared: Prepared) -> 'Recommender':
    r"""The backbone of :obj:`config` for :obj:`prepared`'s graph, seeded with
    ``config.train.seed`` and started from its LLMInit features if it has them."""
    from ..models import build_model
    torch.manual_seed(config.train.seed)
    kwargs = config.model_kwargs()
    if prepared.item_x is not None:  # 'full' keeps every dim of the text embedding
        kwargs['embedding_dim'] = prepared.item_x.size(1)
    model = build_model(config.model, prepared.data['user'].num_nodes,
                        prepared.data['item'].num_nodes, **kwargs)
    if prepared.item_x is not None:
        model.init_from_x(prepared.user_x, prepared.item_x)
    return model


def run_experiment(config: ExperimentConfig, out: Union[None, str, 'Path'] = None,
                   root: Optional[str] = None, log: Log = print,
                   embedding: Optional[Tensor] = None, overwrite: bool = False,
                   force_reload: bool = False, loggers: Sequence[str] = ()) -> Dict:
    r"""Prepares, trains with early stopping and tests one experiment, printing the graph's
    statistics first and a results table last, and writes its run folder.

    Under ``torchrun`` every process calls it: each trains on its shard with DDP, rank 0
    prepares the data first (the others then read its caches), prints and writes alone.

    Args:
        config (ExperimentConfig): The experiment.
        out (str or Path, optional): Run folder (default: a new
            ``runs/<graph>-<model>-<init>-<time>``); checked before anything is loaded,
            and refused if it holds files, unless :obj:`overwrite` (see
            :meth:`RunFolder.for_new_run`).
        root (str, optional): Cache folder for processed graphs.
        log (callable): Receives every line of output.
        embedding (Tensor, optional): Precomputed item embeddings (see :func:`prepare`).
        overwrite (bool): Replace the run files already in :obj:`out`.
        force_reload (bool): Process the graph's raw files again, ignoring its cache.
        loggers (sequence of str): Experiment trackers the run also reports to:
            ``'csv'``, ``'tensorboard'`` (see :mod:`~pyg_llminit.experiment.trackers`).

    Returns:
        The contents of ``results.json``: ``config``, ``world_size``, ``best_epoch``,
        ``epochs_run``, ``train_seconds``, ``seconds_per_epoch``, ``valid``, ``test``,
        ``test_most_popular`` (on a cold-item split ``test_cold_references`` instead) and
        ``test_by_user_degree``; ``{}`` on ranks other than 0.
    """
    from ..training.distributed import launched_by_torchrun, setup
    config = config.with_absolute_paths()  # the run folder reads from any folder
    rank, world = 0, 1
    if launched_by_torchrun():  # join the group; rank 0 alone prints and writes
        rank, world, device = setup(config.train.device)
        config = dataclasses.replace(
            config, train=dataclasses.replace(config.train, device=device))
    else:
        config.check_devices()  # an absent GPU fails before any loading
    if config.train.loader == 'neighbor':
        from ..training.batches import check_neighbor_sampling
        check_neighbor_sampling()
    log = log if rank == 0 else (lambda line: None)
    check_trackers(loggers)  # an unknown or uninstalled one fails before the folder
    folder = RunFolder.for_new_run(out, config, overwrite) if rank == 0 else None
    if folder is not None:
        folder.track(loggers)
    try:  # the folder stays locked until the run ends
        return _train_new(config, folder, root, log, embedding, force_reload and rank == 0,
                          world)
    finally:
        if folder is not None:
            folder.close()


def _train_new(config: ExperimentConfig, folder: Optional[RunFolder], root: Optional[str],
               log: Log, embedding: Optional[Tensor], force_reload: bool, world: int) -> Dict:
    from ..training import Trainer
    from ..training.distributed import rank_zero_first
    if folder is not None:
        log = folder.tee(log)
    try:
        prepared = rank_zero_first(
            lambda: prepare(config, root, log, embedding, force_reload=force_reload),
            config.train.device)
        model = create_model(config, prepared)
        if model.embedding.embedding_dim != config.embedding_dim:  # 'full': d_LLM wide
            config = dataclasses.replace(config, embedding_dim=model.embedding.embedding_dim)
        log(f'model {model}')
        trainer = Trainer(model, prepared.train, prepared.val, prepared.test, config.train,
                          writer=folder, log=log,
                          protocol=cold_item_protocol(config, prepared))
        if folder is not None:
            folder.write_config(config)
            folder.write_provenance(prepared.data, config.graph, prepared.item_text)
    except BaseException:  # a run that fails before training leaves no empty folder
        if folder is not None:
            folder.discard_if_empty()
        raise
    results = trainer.fit()
    if folder is None:
        return {}
    return _finish(folder, config, trainer, results, world, prepared.data['user'].ids, log)


def resume_run(run_dir: Union[str, 'Path'], root: Optional[str] = None,
               log: Log = print) -> Dict:
    r"""Continues an interrupted run (killed, out of time, Ctrl-C) from the ``last.pt`` of
    its folder, exactly as if it had never stopped: the same weights, optimizer state,
    random-number states and early stopping, so it ends with the ``results.json`` an
    uninterrupted run would have written; it reports to the trackers it reported to
    before. One process only.

    Args:
        run_dir (str or Path): The run folder.
        root (str, optional): Cache folder for processed graphs.
        log (callable): Receives every line of output.
    """
    with RunFolder(run_dir).lock('resume') as folder:
        folder.track(trackers_in(folder.path))  # the trackers it reported to before
        return _resume(folder, root, log)


def _resume(folder: RunFolder, root: Optional[str], log: Log) -> Dict:
    from ..training import Trainer
    config = folder.read_config(finished=False)
    checkpoint = folder.read_resume()
    log = folder.tee(log)
    config.check_devices()
    prepared = prepare(config, root, log, features=False)
    folder.check_data(prepared.data)
    folder.check_text_vectors(prepared.item_text)
    model = create_model(config, prepared)
    log(f'model {model}')
    trainer = Trainer(model, prepared.train, prepared.val, prepared.test, config.train,
                      writer=folder, log=log, protocol=cold_item_protocol(config, prepared))
    results = trainer.fit(resume=checkpoint)
    return _finish(folder, config, trainer, results, 1, prepared.data['user'].ids, log)


def _finish(folder: RunFolder, config: ExperimentConfig, trainer: 'Trainer', results: Dict,
            world: int, user_ids: List[str], log: Log) -> Dict:
    r"""The end of a run: the results table, then ``results.json``."""
    from .tables import groups_table, results_table
    log('')
    if 'test_cold_references' in results:
        log(f'held-out items, each user ranking the cold test items: valid and test with the '
            f'{config.cold_map} map from text to item embedding; references: '
            f'{", ".join(results["test_cold_references"])}')
    log(results_table(results))
    if 'test_by_user_degree' in results:
        log('\ntest by training interactions per user')
        log(groups_table(results['test_by_user_degree']))
    if 'test_by_item_popularity' in results:
        log('\ntest by popularity of the held-out item (its training interactions)')
        log(groups_table(results['test_by_item_popularity'], first='item group'))
    log(f'{results["epochs_run"]} epochs, {results["train_seconds"]:.0f} s '
        f'({results["seconds_per_epoch"]:.1f} s/epoch incl. validation) on '
        f'{trainer.device}; run folder {folder.path}')
    results['embedding_collapse'] = collapse_of(trainer.model, trainer.adj)
    ranks = results['embedding_collapse']
    log('embedding collapse (effective rank / information abundance, of d): ' + ', '.join(
        f'{name.replace("_", " ")} {v["effective_rank"]:.1f} / '
        f'{v["information_abundance"]:.1f} of {v["dims"]}' for name, v in ranks.items()))
    per_user = results.pop('test_per_user')
    results = {'config': config.to_dict(), 'world_size': world, **results}
    folder.write_per_user(per_user, user_ids)
    folder.write_results(results)  # last: a run folder with results.json is complete
    return results


__all__ = ['Prepared', 'prepare', 'create_model', 'run_experiment', 'resume_run']
