"""Backbone x initialisation x seed grid on Amazon Beauty, resumable, optionally in parallel.

For every (model, init, seed): leave-one-out in time order, d = 128, 2 layers, Adam 1e-3,
batch 2048 (``--batch-size``), early stopping on validation NDCG@10 (patience 10,
``--patience``); test metrics at the best validation epoch. Each finished run is merged into
the JSON file at once (``--out``, default ``benchmarks/results/init_grid.json``;
atomically, under a file lock, re-reading the file first), so the script can be stopped and
restarted and only runs what is missing, and several invocations may share one file. At the
end it writes a markdown table beside the JSON: test Recall@10 and NDCG@10 (mean +- std over
seeds), the gain over ``none`` of the same model, seconds per epoch, and the first epoch at
which each init reaches the best validation NDCG@10 of ``none`` (same model and seed).
``--doc FILE`` also rewrites the table block of a markdown document (e.g. ``BACKBONES.md``),
with the runs still missing from the issue's grid; ``--merge A.json B.json`` adds the runs
of other grids' files (e.g. from another machine) and rewrites the tables. The tables and
the merging live in ``grid_report.py``; runs that recorded test metrics per user group get a
second table of them. Each run is built as the command line builds it
(``pyg_llminit.experiment``: :func:`prepare`, :func:`create_model`, then the
:class:`Trainer`), with split seed 2020 whatever the run's seed.

The item embeddings are encoded once in the parent (``--encoder``, cached) or read from a
file (``--embedding``, a ``[num_items, d_LLM]`` tensor saved by ``--save-embedding``), so
workers never load a language model. ``--jobs N`` runs N runs at once in separate processes
(each with ``cpu_count / N`` threads): worth it on a GPU, whose kernels one Beauty run leaves
mostly idle. On a CPU, never run two processes that each use every core: their OpenMP
threads fight and epochs get 20-30x slower (measured on this project's 2-core VM).

Usage::

    python benchmarks/init_grid.py --models lightgcn --out benchmarks/results/llminit_inits.json
    python benchmarks/init_grid.py --models lightgcn,sgl,sgcl --inits none,random,uniform,variance
    python benchmarks/init_grid.py --device cuda --jobs 8 --embedding beauty_minilm.safetensors
    python benchmarks/init_grid.py --out benchmarks/results/backbones.json --merge other.json \
        --doc benchmarks/BACKBONES.md
    python benchmarks/init_grid.py --out benchmarks/results/backbones.json --report
"""
import argparse
import importlib.util
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, Optional

import torch

from pyg_llminit.experiment import ExperimentConfig, create_model, prepare
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.allocator import retain_freed_memory

HERE = Path(__file__).parent
RESULTS = HERE / 'results'


def load_sibling(name: str):
    r"""The module ``benchmarks/<name>.py`` beside this script (the benchmarks are scripts,
    not a package, so it is loaded from its file rather than imported)."""
    spec = importlib.util.spec_from_file_location(name, HERE / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grid_report = load_sibling('grid_report')
DOC_BEGIN, DOC_END = grid_report.DOC_BEGIN, grid_report.DOC_END
load_runs, merge_runs, report = grid_report.load_runs, grid_report.merge_runs, grid_report.report
write_doc, write_text = grid_report.write_doc, grid_report.write_text

#: One fixed split seed, so that every run of a grid shares the split (whatever its seed).
SPLIT_SEED = 2020


def threads_text(n: int) -> str:
    return f'{n} thread' if n == 1 else f'{n} threads'


def grid_config(model_name: str = 'lightgcn', init: str = 'none', seed: int = 2020,
                epochs: int = 300, device: str = 'cpu', scale: str = 'none',
                order: str = 'time', batch_size: int = 2048, patience: int = 10,
                warmup: int = 30) -> ExperimentConfig:
    r"""One run of the grid: Beauty, leave-one-out with each user's history in time order
    or in the authors' random order (split seed :data:`SPLIT_SEED`), d = 128, 2 layers."""
    return ExperimentConfig(
        graph='amazon', split='loo', order=order, split_seed=SPLIT_SEED, model=model_name,
        embedding_dim=128, num_layers=2, init=init, init_scale=scale,
        train=TrainConfig(epochs=epochs, seed=seed, device=device, batch_size=batch_size,
                          patience=patience, warmup=warmup))


def run_one(model_name: str, init: str, seed: int, epochs: int, device: str,
            embedding: Optional[torch.Tensor], scale: str, threads: int = 0,
            order: str = 'time', batch_size: int = 2048, patience: int = 10,
            warmup: int = 30) -> Dict:
    retain_freed_memory()  # as the CLI's train command (the Trainer leaves it to callers)
    if threads:
        torch.set_num_threads(threads)
    config = grid_config(model_name, init, seed, epochs, device, scale, order, batch_size,
                         patience, warmup)
    start = time.perf_counter()
    prepared = prepare(config, log=lambda s: None, embedding=embedding)
    model = create_model(config, prepared)
    trainer = Trainer(model, prepared.train, prepared.val, prepared.test, config.train,
                      log=lambda s: None)
    results = trainer.fit()
    results['val_curve'] = [h.val['ndcg@10'] for h in trainer.history]
    results['train_epoch_seconds'] = statistics.median(
        h.seconds - h.eval_seconds for h in trainer.history)
    results.update(wall_seconds=time.perf_counter() - start, epochs_cap=epochs, scale=scale,
                   order=order, batch_size=batch_size, patience=patience, warmup=warmup,
                   torch=torch.__version__,
                   device=torch.cuda.get_device_name() if device.startswith('cuda')
                   else f'{platform.machine()} CPU, {threads_text(torch.get_num_threads())}')
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', default='lightgcn')
    parser.add_argument('--inits', default='none,random,uniform,variance,pca')
    parser.add_argument('--seeds', default='2020,2021,2022')
    parser.add_argument('--epochs', type=int, default=300)
    parser.add_argument('--encoder', default='minilm',
                        help='text encoder preset; with --embedding, the one that made the file '
                        '(recorded with each run)')
    parser.add_argument('--embedding', help='item embeddings [I, d] (safetensors or .pt) '
                        'instead of encoding with --encoder')
    parser.add_argument('--save-embedding', help='write the encoded embeddings here and exit')
    parser.add_argument('--scale', default='none', help="--init-scale: none, xavier, or a std")
    parser.add_argument('--order', default='time', choices=['time', 'random'],
                        help="each user's history order for the leave-one-out split")
    parser.add_argument('--batch-size', type=int, default=2048,
                        help='training batch (the paper: 256 for SGCL); keep one value per '
                        '--out file, whose table pools every run in it')
    parser.add_argument('--warmup', type=int, default=30,
                        help='epochs before patience counts (the package default; the '
                        'committed grids before 2026-12-03 ran without, i.e. 0)')
    parser.add_argument('--patience', type=int, default=10,
                        help='early-stopping patience in epochs (the protocol: 10); keep one '
                        'value per --out file, as for --batch-size')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument('--out', default=str(RESULTS / 'init_grid.json'))
    parser.add_argument('--report', action='store_true',
                        help='only rewrite the markdown table from the JSON file')
    parser.add_argument('--merge', nargs='+', metavar='JSON',
                        help="add the runs of these files (other grids' --out) to --out, "
                        'rewrite the tables and exit')
    parser.add_argument('--doc', help='also rewrite the table block of this markdown file '
                        f'(between {DOC_BEGIN} and {DOC_END})')
    args = parser.parse_args()
    models, inits = args.models.split(','), args.inits.split(',')
    seeds = [int(s) for s in args.seeds.split(',')]
    out = Path(args.out)
    runs = load_runs(out)
    if args.merge:
        for part in args.merge:
            runs = merge_runs(out, load_runs(Path(part)))
    if args.report or args.merge:
        write_text(out.with_suffix('.md'), report(runs, args, [], 0.0))
        write_doc(args.doc, runs)
        return
    # the training graph to encode; also builds the processed cache before any worker starts
    train = prepare(grid_config(order=args.order), log=lambda s: None, features=False).train

    from pyg_llminit.text import encode_items, load_embedding, save_embedding
    if args.embedding:
        embedding = load_embedding(args.embedding, num_items=train['item'].num_nodes)
    elif any(i != 'none' for i in inits) or args.save_embedding:
        embedding = encode_items(train, args.encoder)
    else:
        embedding = None
    if args.save_embedding:
        save_embedding(args.save_embedding, embedding)
        return

    todo = [(m, i, s) for m in models for i in inits for s in seeds
            if f'{m}/{i}/{s}' not in runs]
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else 0
    grid_start = time.perf_counter()

    def record(key: str, result: Dict) -> None:
        result['encoder'] = args.encoder  # what made --embedding's file, if one is given
        if args.embedding:
            result['embedding_file'] = args.embedding
        runs.update(merge_runs(out, {key: result}))
        print(f'{key}: test recall@10 {result["test"]["recall@10"]:.4f} ndcg@10 '
              f'{result["test"]["ndcg@10"]:.4f}, best epoch {result["best_epoch"]}, '
              f'{result["wall_seconds"]:.0f} s', flush=True)

    # Every run's training settings, passed the same way in both branches.
    settings = dict(epochs=args.epochs, device=args.device, scale=args.scale,
                    order=args.order, batch_size=args.batch_size, patience=args.patience,
                    warmup=args.warmup)
    if args.jobs > 1 and len(todo) > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context('spawn')) as pool:
            futures = {pool.submit(run_one, m, i, s, threads=threads,
                                   embedding=embedding if i != 'none' else None,
                                   **settings): f'{m}/{i}/{s}'
                       for m, i, s in todo}
            for future in as_completed(futures):
                record(futures[future], future.result())
    else:
        for m, i, s in todo:
            record(f'{m}/{i}/{s}', run_one(m, i, s, embedding=embedding, **settings))
    md = report(runs, args, todo, time.perf_counter() - grid_start)
    print(md)
    write_text(out.with_suffix('.md'), md)
    write_doc(args.doc, runs)


if __name__ == '__main__':
    main()
