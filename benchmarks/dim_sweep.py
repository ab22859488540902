"""Embedding size sweep on Beauty: does LLMInit avoid embedding collapse as d grows?

For every d in ``--dims`` one comparison (:func:`pyg_llminit.experiment.compare`, what
``pyg-llminit compare`` runs) of LightGCN from ``--inits`` (default ``none``, ``variance``
and ``pca``: the top-d principal directions of the text embedding) over ``--seeds``, in
``OUT/d<d>/``, resumable like any comparison. Then ``OUT/dim_sweep.md`` and ``.json``: per
(d, init) test NDCG@10 and Recall@10 (mean +- std over seeds) and the effective rank
(Roy & Vetterli, 2007: exp of the entropy of the normalised singular values) of the
trained user and item tables, and ``OUT/dim_sweep.png``: both against d.

LLMInit selects d of the encoder's dimensions, so d is capped by its width (MiniLM: 384);
at d = 384 ``variance`` keeps every dimension (the same features as ``--init full``) and
``pca`` is a rotation of the full embedding.

Usage::

    python benchmarks/dim_sweep.py --jobs 2                 # train what is missing, report
    python benchmarks/dim_sweep.py --dims 32,64 --seeds 2020
    python benchmarks/dim_sweep.py --report-only            # tables and plot only
"""
import argparse
import dataclasses
import json
import math
from pathlib import Path

from pyg_llminit.experiment import ExperimentConfig, RunFolder, compare, load_run
from pyg_llminit.evaluation.collapse import abundance_of
from pyg_llminit.evaluation.collapse import collapse_of
from pyg_llminit.experiment.plan import Arm
from pyg_llminit.experiment.significance import mean_std
from pyg_llminit.experiment.tables import markdown_table
from pyg_llminit.io import atomic_path, write_json

OUT = Path(__file__).parent / 'results' / 'compare' / 'beauty-dims'
TABLES = ('user_propagated', 'item_propagated')
#: Effective rank (Roy & Vetterli, 2007) and information abundance (Guo et al., ICML 2024).
MEASURES = ('effective_rank', 'information_abundance')


def cells(out: Path, dims, inits, root=None):
    r"""``{(d, init): cell}`` over the finished runs under :obj:`out` (``d<d>/runs/``), so
    a sweep still training, or one whose cells finished in different sessions, reports
    what it has: per cell the seeds done and the mean +- std over them of the test metrics
    and of each collapse measure (:data:`MEASURES`) per table. A run older than the
    measures in ``results.json`` (one reused from an earlier comparison) gets them from
    its best weights."""
    found = {}
    for dim in dims:
        for init in inits:
            runs = {}
            for folder in sorted((out / f'd{dim}' / 'runs').glob(f'lightgcn-{init}-seed*')):
                named = Arm.of_folder(folder.name)
                if (named and named[0] == Arm('lightgcn', init)  # not a stray copy
                        and (folder / RunFolder.RESULTS).is_file()):
                    runs[named[1]] = (
                        folder, json.loads((folder / RunFolder.RESULTS).read_text()))
            if not runs:
                continue
            spectra = [r for r in (collapse_record(folder, results, root)
                                   for folder, results in runs.values()) if r]
            tests = [results['test'] for _, results in runs.values()]
            found[dim, init] = {
                'seeds': sorted(runs),
                'test': {m: mean_std([t[m] for t in tests]) for m in tests[0]},
                # over the runs with a record (an old run whose best.pt is gone has none)
                **{measure: {t: mean_std([measure_of(r[t], measure) for r in spectra])
                             for t in TABLES} if spectra else None for measure in MEASURES}}
    return found


def collapse_record(folder: Path, results, root=None):
    r"""A run's ``{table: {'effective_rank', 'singular_values', ...}}``: from its
    ``results.json``, or for a run older than that record, computed from its ``best.pt``
    as a new run records it; ``None`` for such a run without its ``best.pt``."""
    if 'embedding_collapse' in results:
        return results['embedding_collapse']
    if not (folder / RunFolder.BEST).is_file():  # weights are not committed with a run
        return None
    run = load_run(folder, root)
    return collapse_of(run.model, run.adj)


def measure_of(record, measure: str) -> float:
    r"""One collapse measure of a table's record; the information abundance from its
    spectrum where the record predates it."""
    return abundance_of(record) if measure == 'information_abundance' else record[measure]


def sweep(graph: str, dims, inits, seeds, out: Path, jobs: int = 1, device: str = 'cpu',
          epochs: int = 300, warmup: int = 30, root=None, log=print) -> None:
    r"""One comparison of LightGCN from :obj:`inits` per d, in ``out/d<d>/``."""
    for dim in dims:
        config = ExperimentConfig(graph=graph, embedding_dim=dim, split_seed=2020)
        config = dataclasses.replace(config, train=dataclasses.replace(
            config.train, device=device, epochs=epochs, warmup=warmup))
        compare(config, ['lightgcn'], inits, seeds, out / f'd{dim}', jobs=jobs, root=root,
                log=log)


def report(out: Path, dims, inits, root=None, graph: str = 'amazon') -> None:
    found = cells(out, dims, inits, root)
    if not found:
        raise SystemExit(f'error: no finished run under {out}')
    pm = lambda v, digits=4: f'{v["mean"]:.{digits}f} ± {v["std"]:.{digits}f}'  # noqa: E731
    short = {'effective_rank': 'erank', 'information_abundance': 'IA'}
    rows = [[str(d), init, str(len(a['seeds'])), pm(a['test']['ndcg@10']),
             pm(a['test']['recall@10']),
             *(pm(a[m][t], 1) if a[m] else '-' for m in MEASURES for t in TABLES)]
            for (d, init), a in sorted(found.items())]
    table = markdown_table(['d', 'init', 'seeds', 'test ndcg@10', 'test recall@10',
                            *(f'{short[m]} {t.split("_")[0]}s' for m in MEASURES
                              for t in TABLES)], rows)
    write_json(out / 'dim_sweep.json', {f'd{d}/{init}': a['test'] | {
        'seeds': a['seeds'], **{m: a[m] for m in MEASURES}}
        for (d, init), a in found.items()})
    with atomic_path(out / 'dim_sweep.md') as tmp:
        tmp.write_text(f'# Embedding size sweep, LightGCN on {graph}\n\n'
                       'Mean ± std over the seeds finished so far (a cell of one seed '
                       'is anecdotal). Collapse measures of the propagated user and item '
                       'tables the model scores with, each between 1 (one direction) and '
                       'd (all singular values equal): erank, the effective rank (Roy & '
                       'Vetterli, 2007: exp of the entropy of the normalised singular '
                       'values), and IA, the information abundance (Guo et al., ICML '
                       '2024: their sum over the largest), which drops faster when one '
                       'direction dominates. From `results.json`, or for runs older than '
                       'that record, from their `best.pt`.\n\n' + table + '\n\n'
                       '![NDCG@10 and both collapse measures against d](dim_sweep.png)\n')
    plot(found, out / 'dim_sweep.png', inits)
    print(table)


def plot(found, path: Path, inits) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for colour, init in zip(plt.rcParams['axes.prop_cycle'].by_key()['color'], inits):
        dims = sorted(d for d, i in found if i == init)
        if not dims:
            continue
        arms = [found[d, init] for d in dims]
        axes[0].errorbar(dims, [a['test']['ndcg@10']['mean'] for a in arms],
                         [a['test']['ndcg@10']['std'] for a in arms], marker='o',
                         capsize=3, color=colour, label=init)
        for ax, measure in zip(axes[1:], MEASURES):
            ranked = [(d, a) for d, a in zip(dims, arms) if a[measure]]
            for table, style in zip(TABLES, ('--', '-')):
                ax.errorbar([d for d, _ in ranked],
                            [a[measure][table]['mean'] for _, a in ranked],
                            [a[measure][table]['std'] for _, a in ranked], marker='o',
                            capsize=3, color=colour, linestyle=style,
                            label=init if table.startswith('item') else '_nolegend_')
    every = sorted({d for d, _ in found})
    for ax in axes[1:]:
        ax.plot(every, every, ':', color='grey', label='d (no collapse)')
        ax.set_yscale('log', base=2)
        low, high = ax.get_ylim()  # every power of two in view, so values below d read too
        ticks = [2 ** k for k in range(int(math.log2(low)), int(math.log2(high)) + 1)
                 if low <= 2 ** k <= high]
        ax.set_yticks(ticks, [str(t) for t in ticks])
    for ax, title in zip(axes, ['test NDCG@10', 'effective rank (items solid, users dashed)',
                                'information abundance (items solid, users dashed)']):
        ax.set_xscale('log', base=2)
        ax.set_xticks(every, [str(d) for d in every])
        ax.set_xlabel('embedding size d')
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format='png', dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dims', default='32,64,128,256,384')
    parser.add_argument('--inits', default='none,variance,pca')
    parser.add_argument('--seeds', default='2020,2021,2022')
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--epochs', type=int, default=300, help='at most (a smoke test: 2)')
    parser.add_argument('--warmup', type=int, default=30)
    parser.add_argument('--out', default=str(OUT))
    parser.add_argument('--graph', default='amazon', help='Beauty unless told otherwise')
    parser.add_argument('--root', default=None, help='cache folder for processed graphs')
    parser.add_argument('--report-only', action='store_true')
    args = parser.parse_args()
    dims = [int(d) for d in args.dims.split(',')]
    inits = args.inits.split(',')
    out = Path(args.out)
    if not args.report_only:
        sweep(args.graph, dims, inits, [int(s) for s in args.seeds.split(',')], out,
              args.jobs, args.device, args.epochs, args.warmup, args.root)
    report(out, dims, inits, args.root, args.graph)

if __name__ == '__main__':
    main()
