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
import statistics
from pathlib import Path

from pyg_llminit.experiment import ExperimentConfig, compare, load_run
from pyg_llminit.experiment.pipeline import collapse_of
from pyg_llminit.experiment.tables import markdown_table
from pyg_llminit.io import atomic_path, write_json

OUT = Path(__file__).parent / 'results' / 'compare' / 'beauty-dims'
TABLES = ('user_propagated', 'item_propagated')


def cells(out: Path, dims, root=None):
    r"""``{(d, init): arm summary}`` of the finished comparisons under :obj:`out`. An arm
    whose runs predate the effective rank in ``results.json`` (runs reused from an older
    comparison) gets it from each run's best weights."""
    found = {}
    for dim in dims:
        path = out / f'd{dim}' / 'compare.json'
        if path.is_file():
            summary = json.loads(path.read_text())
            for arm in summary['arms'].values():
                if not arm['effective_rank']:
                    arm['effective_rank'] = ranks_from_weights(
                        out / f'd{dim}', arm, summary['settings']['seeds'], root)
                found[dim, arm['init']] = arm
    return found


def ranks_from_weights(folder: Path, arm, seeds, root=None):
    r"""``{table: mean +- std over seeds}`` of the effective ranks of the arm's runs,
    computed from their ``best.pt`` as a new run records them."""
    ranks = []
    for seed in seeds:
        run = load_run(folder / 'runs' / f'{arm["model"]}-{arm["init"]}-seed{seed}', root)
        ranks.append({t: v['effective_rank'] for t, v in collapse_of(run).items()})
    return {t: {'mean': statistics.fmean(r[t] for r in ranks),
                'std': statistics.stdev(r[t] for r in ranks) if len(ranks) > 1 else 0.0}
            for t in ranks[0]}


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
    found = cells(out, dims, root)
    if not found:
        raise SystemExit(f'error: no finished comparison under {out}')
    pm = lambda v, digits=4: f'{v["mean"]:.{digits}f} ± {v["std"]:.{digits}f}'  # noqa: E731
    rows = [[str(d), init, str(len(a['per_seed'])), pm(a['test']['ndcg@10']),
             pm(a['test']['recall@10']),
             *(pm(a['effective_rank'][t], 1) for t in TABLES)]
            for (d, init), a in sorted(found.items())]
    table = markdown_table(['d', 'init', 'seeds', 'test ndcg@10', 'test recall@10',
                            *(f'effective rank {t.replace("_", " ")}' for t in TABLES)], rows)
    write_json(out / 'dim_sweep.json', {f'd{d}/{init}': a['test'] | {
        'effective_rank': a['effective_rank']} for (d, init), a in found.items()})
    with atomic_path(out / 'dim_sweep.md') as tmp:
        tmp.write_text(f'# Embedding size sweep, LightGCN on {graph}\n\n'
                       'Mean ± std over seeds; effective rank of the propagated tables the '
                       'model scores with, out of d (from `results.json`, or for runs '
                       'older than that record, from their `best.pt`).\n\n' + table +
                       '\n\n'
                       '![NDCG@10 and effective rank against d](dim_sweep.png)\n')
    plot(found, out / 'dim_sweep.png', inits)
    print(table)


def plot(found, path: Path, inits) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for init in inits:
        dims = sorted(d for d, i in found if i == init)
        if not dims:
            continue
        arms = [found[d, init] for d in dims]
        axes[0].errorbar(dims, [a['test']['ndcg@10']['mean'] for a in arms],
                         [a['test']['ndcg@10']['std'] for a in arms], marker='o',
                         capsize=3, label=init)
        for ax, table in zip(axes[1:], TABLES):
            ax.errorbar(dims, [a['effective_rank'][table]['mean'] for a in arms],
                        [a['effective_rank'][table]['std'] for a in arms], marker='o',
                        capsize=3, label=init)
    every = sorted({d for d, _ in found})
    axes[1].plot(every, every, ':', color='grey', label='d (no collapse)')
    axes[2].plot(every, every, ':', color='grey', label='d (no collapse)')
    axes[0].set_ylabel('test NDCG@10')
    for ax, title in zip(axes, ['test NDCG@10', *(f'effective rank, {t.replace("_", " ")}'
                                                   for t in TABLES)]):
        ax.set_xscale('log', base=2)
        ax.set_xticks(every, [str(d) for d in every])
        ax.set_xlabel('embedding size d')
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
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
