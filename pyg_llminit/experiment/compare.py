"""Comparisons: arms (backbone x initialisation) x seeds on one graph, one split, one budget
and one stopping rule, each training an ordinary run folder, summarised against a baseline.

The output folder holds ``spec.json`` (the shared settings, so an interrupted comparison
resumes and a different one is refused), ``runs/<model>-<init>-seed<seed>/`` (one run
folder per training; finished ones are reused, interrupted ones resumed from ``last.pt``),
``logs/`` (the console output of trainings run in worker processes) and, at the end,
``compare.json``, ``compare.md`` and the plots (see :mod:`~pyg_llminit.experiment.summary`).

Example:
    >>> from pyg_llminit.experiment import ExperimentConfig, compare
    >>> summary = compare(ExperimentConfig(graph='amazon'), models=['lightgcn'],
    ...                   inits=['none', 'variance'], seeds=[2020, 2021, 2022],
    ...                   out='comparisons/beauty')
"""
import json
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

from ..errors import UserInputError, invalid
from ..io import exclusive, read_json, write_json
from .config import ExperimentConfig
from .plan import Arm, arm_config, check_out, check_seeds, finished, plan_arms, shared_settings
from .trackers import check_trackers
from .tune import tuned_params, with_params
from .runs import RunFolder

Log = Callable[[str], None]

#: A worker process's state: whether it is training, and whether compare has stopped it.
_WORKER = {'training': False, 'stopped': False}


def _init_worker() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_worker)


def _stop_worker(signum, frame):
    r"""SIGTERM from compare's interruption (or Ctrl-C): the training unwinds like Ctrl-C
    (no half-written file; ``last.pt`` holds its last epoch) and every later task of this
    worker returns at once, so the pool shuts down cleanly."""
    _WORKER['stopped'] = True
    if _WORKER['training']:
        _WORKER['training'] = False  # once: Ctrl-C and compare's SIGTERM both arrive
        raise KeyboardInterrupt


def _train(config: Dict, folder: str, root: Optional[str], embedding, threads: int,
           log_file: Optional[str], loggers: Sequence[str] = (), log: Log = print) -> None:
    r"""One training, in this process or a worker (whose output goes to :obj:`log_file`):
    resumes an interrupted run folder, replaces one that failed before its first epoch,
    else starts it."""
    import torch

    from ..training.allocator import retain_freed_memory
    from .pipeline import resume_run, run_experiment
    if _WORKER['stopped']:
        return
    retain_freed_memory()
    if threads:
        torch.set_num_threads(threads)
    stream = open(log_file, 'a') if log_file else None
    if stream:
        log = lambda line: print(line, file=stream, flush=True)  # noqa: E731
    _WORKER['training'] = stream is not None
    try:
        if _WORKER['stopped']:  # a signal between the first check and here
            raise KeyboardInterrupt
        run = RunFolder(folder)
        if (run.path / RunFolder.LAST).is_file():
            resume_run(folder, root, log=log)
        else:
            run_experiment(ExperimentConfig.from_dict(config), folder, root, log=log,
                           embedding=embedding, overwrite=True, loggers=loggers)
    except KeyboardInterrupt:
        if stream:
            log('interrupted')
        raise
    finally:
        _WORKER['training'] = False
        if stream:
            stream.close()


def compare(base: ExperimentConfig, models: Sequence[str], inits: Sequence[str],
            seeds: Sequence[int], out: Union[str, Path], baseline: Optional[str] = None,
            jobs: int = 1, root: Optional[str] = None, log: Log = print,
            embedding=None, loggers: Sequence[str] = (), encoders: Sequence[str] = (),
            params: Optional[Union[str, Path]] = None) -> Dict:
    r"""Trains every arm with every seed (what is not finished yet) and summarises them.

    Args:
        base (ExperimentConfig): The shared graph, split, model sizes, budget and stopping
            (its ``model``, ``init`` and ``train.seed`` are replaced per run).
        models, inits (Sequence[str]): The arms are ``models x inits``.
        seeds (Sequence[int]): Training seeds (model init, sampling); the split is one
            for all (``base.split_seed``, default :data:`~pyg_llminit.experiment.plan.SPLIT_SEED`).
        out (str or Path): The comparison's folder (see the module's docstring).
        baseline (str, optional): See :func:`plan_arms`.
        jobs (int): Trainings at once, in worker processes that share the CPU threads.
        root (str, optional): Cache folder for processed graphs.
        log (callable): Receives the graph statistics and one line per training.
        embedding (Tensor, optional): Precomputed item embeddings ``[I, d_LLM]`` instead of
            encoding the item texts with ``base.encoder``.
        loggers (sequence of str): Experiment trackers every run also reports to (see
            :func:`~pyg_llminit.experiment.run_experiment`).
        encoders (sequence of str): Text models to compare: each LLMInit arm is trained
            once per model (arms ``model/init@encoder``; those of ``base.encoder`` keep
            the plain name, so a one-model comparison's folder can be extended).
        params (str or Path, optional): A ``pyg-llminit tune`` folder of the same
            experiment: each arm trains with its own best setting found there (lr,
            reg_weight, model options), recorded in ``spec.json``.

    Returns:
        The contents of ``compare.json`` (see :func:`~pyg_llminit.experiment.summary.summarise`).
    """
    with exclusive(out, 'out'):  # one comparison per folder at a time
        return _compare(base, models, inits, seeds, out, baseline, jobs, root, log, embedding,
                        check_trackers(loggers), list(encoders), params)


def _compare(base: ExperimentConfig, models: Sequence[str], inits: Sequence[str],
             seeds: Sequence[int], out: Union[str, Path], baseline: Optional[str], jobs: int,
             root: Optional[str], log: Log, embedding, loggers: Sequence[str],
             encoders: List[str], params: Optional[Union[str, Path]]) -> Dict:
    from ..transforms.llminit import check_dim
    from .features import item_text_embedding
    from .pipeline import check_dim_fits_encoder, prepare
    from .compare_markdown import test_table
    from .summary import keep_earlier_tests, keep_earlier_timing, summarise, write_summary
    from .tables import text_table
    if encoders and (embedding is not None or base.embedding_file is not None):
        raise invalid('encoders', 'compares text models, but the item vectors are given '
                      '(--embedding): drop one')
    arms, baseline_of = plan_arms(models, inits, baseline, encoders, base.encoder)
    seeds = check_seeds(seeds)
    base = base.with_absolute_paths()
    if not isinstance(jobs, int) or jobs < 1:
        raise invalid('jobs', f'must be a positive integer, got {jobs!r}')
    tuned = tuned_params(params, base, arms) if params is not None else {}
    configs = {(arm, seed): with_params(arm_config(base, arm, seed), tuned.get(arm, {}))
               for arm in arms for seed in seeds}
    for config in configs.values():
        config.check()  # every backbone takes the model options before anything runs
        config.check_devices()
        if config.init not in ('none', 'full') and config.embedding_file is None:
            check_dim_fits_encoder(config.embedding_dim, config.encoder)
    out, settings = Path(out), shared_settings(base)
    check_out(out, settings)
    # the graph's statistics once, its caches built before any worker reads them, and the
    # item texts encoded (or read) once: workers never load a language model
    first = next(iter(configs.values()))
    prepared = prepare(first, root, log, features=False)
    embeddings = {}  # per text model
    for config in configs.values():
        if config.uses_text and config.encoder not in embeddings:
            embeddings[config.encoder] = embedding if embedding is not None else \
                item_text_embedding(config, prepared.data, prepared.train)
    for config in configs.values():  # each arm's selection fits, before spec.json commits
        if config.init != 'none':
            vectors = embeddings[config.encoder]
            check_dim(None if config.init == 'full' else config.embedding_dim, config.init,
                      vectors.size(1), vectors.size(0))
    write_json(out / 'spec.json', {'settings': settings, **(
        {'params': {a.name: p for a, p in tuned.items()}} if tuned else {})})
    todo = [(arm, seed) for arm in arms for seed in seeds
            if not finished(out / 'runs' / arm.folder(seed), configs[arm, seed])]
    log(f'{len(arms)} arms x {len(seeds)} seeds: {len(arms) * len(seeds) - len(todo)} runs '
        f'finished before, {len(todo)} to train')
    start = time.perf_counter()
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 0

    def submit_args(arm: Arm, seed: int) -> tuple:
        folder = out / 'runs' / arm.folder(seed)
        log_file = str(out / 'logs' / f'{arm.folder(seed)}.log') if jobs > 1 else None
        return (configs[arm, seed].to_dict(), str(folder), root,
                embeddings.get(configs[arm, seed].encoder) if configs[arm, seed].uses_text
                else None, threads, log_file,
                loggers)

    def done(arm: Arm, seed: int, count: int) -> None:
        results = json.loads((out / 'runs' / arm.folder(seed) / RunFolder.RESULTS).read_text())
        k = min(base.train.topk)
        log(f'[{count}/{len(todo)}] {arm.name} seed {seed}: test recall@{k} '
            f'{results["test"][f"recall@{k}"]:.4f} ndcg@{k} {results["test"][f"ndcg@{k}"]:.4f}'
            f', best epoch {results["best_epoch"]} of {results["epochs_run"]}, '
            f'{results["train_seconds"]:.0f} s')

    if jobs > 1 and len(todo) > 1:
        (out / 'logs').mkdir(parents=True, exist_ok=True)
        pool = ProcessPoolExecutor(jobs, mp_context=get_context('spawn'),
                                   initializer=_init_worker)
        try:
            # workers are spawned by submit: they inherit an ignored SIGINT until their
            # initializer runs, so a Ctrl-C while they import torch prints no traceback
            main_thread = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
            try:
                futures = {pool.submit(_train, *submit_args(arm, seed)): (arm, seed)
                           for arm, seed in todo}
            finally:
                if main_thread:
                    signal.signal(signal.SIGINT, previous)
            for count, future in enumerate(as_completed(futures), 1):
                future.result()
                done(*futures[future], count)
        except BaseException:  # Ctrl-C, SIGTERM or a failed training: stop every worker
            _stop_workers(pool)
            raise
        pool.shutdown()
    else:
        for count, (arm, seed) in enumerate(todo, 1):
            log(f'[{count}/{len(todo)}] training {arm.name} seed {seed}')
            _train(*submit_args(arm, seed), log=log)
            done(arm, seed, count)
    summary = summarise(out, arms, seeds, baseline_of, base,
                        wall_seconds=time.perf_counter() - start, jobs=jobs,
                        device=_device_text(base.train.device, threads))
    summary.update(runs_trained=len(todo), runs_total=len(arms) * len(seeds))
    previous = _earlier_summary(out)
    if previous is not None and not todo:  # nothing trained here: keep how they were
        _guarded(keep_earlier_timing, summary, previous)
    if previous is not None and summary['missing_per_user']:
        summary = _guarded(keep_earlier_tests, summary, previous) or summary
    write_summary(out, summary)
    log(text_table(*reversed(test_table(summary))))
    log(f'wrote {out / "compare.md"}, {out / "compare.json"} and the plots')
    return summary


def _earlier_summary(out: Path) -> Optional[Dict]:
    r"""The comparison's earlier ``compare.json``, or ``None`` when there is none or it
    cannot be read (it is then only replaced)."""
    try:
        return read_json(out / 'compare.json') if (out / 'compare.json').is_file() else None
    except UserInputError:
        return None


def _guarded(keep, summary: Dict, previous: Dict):
    r"""Runs one ``keep_earlier_*`` step; an earlier summary of another shape keeps
    nothing in that step (the keep functions read everything before they write)."""
    try:
        return keep(summary, previous)
    except (AttributeError, TypeError, KeyError, ValueError):
        return None


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    r"""Cancels the trainings not started and sends every worker SIGTERM
    (:func:`_stop_worker`), then waits for them: a plain ``shutdown`` would wait for the
    running trainings to end and start the queued ones."""
    for process in list((getattr(pool, '_processes', None) or {}).values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _device_text(device: str, threads: int) -> str:
    import platform

    import torch

    from ..training import resolve_device
    resolved = resolve_device(device)
    if resolved.type == 'cuda':
        return torch.cuda.get_device_name(resolved)
    n = threads or torch.get_num_threads()
    return f'{platform.machine()} CPU, {n} thread{"s" if n > 1 else ""} per training'


__all__ = ['compare']
