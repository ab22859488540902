"""The tables of the archived grids in ``benchmarks/results/*.json`` (written by
``init_grid.py`` before it became a caller of ``pyg-llminit compare``, with warm-up 0): the
markdown table of test metrics, gains over ``none`` and convergence, the per-user-group
table and the block of ``BACKBONES.md`` it fills. Kept so that the committed tables can be
checked against their JSON (``tests/benchmarks/test_grid_report.py``) until the comparisons of
``benchmarks/results/compare/`` replace them; new grids are comparison folders.

Run as a script, it prints the table of grid files without writing anything::

    python benchmarks/grid_report.py benchmarks/results/backbones.json
"""
import argparse
import json
import platform
import statistics
from pathlib import Path
from typing import Dict, List, Optional

from pyg_llminit.catalog import INITS, MODELS
from pyg_llminit.io import PathLike, atomic_path

def first_epoch_reaching(curve: List[float], target: float) -> Optional[int]:
    return next((i + 1 for i, v in enumerate(curve) if v >= target), None)


def _fmt(xs: List[float]) -> str:
    return (f'{statistics.mean(xs):.4f} +- {statistics.stdev(xs):.4f}' if len(xs) > 1
            else f'{xs[0]:.4f}')


def _gain(xs: List[float], base: List[float]) -> str:
    return f'{100 * (statistics.mean(xs) / statistics.mean(base) - 1):+.1f}%' if base else '-'


def table(runs: Dict, models: List[str], inits: List[str], seeds: List[int],
          speed: bool = True) -> str:
    r"""One row per (model, init) with runs; :obj:`speed` adds the median seconds per
    training epoch (misleading where a row's runs come from different machines)."""
    head = ['model', 'init', 'test Recall@10', 'test NDCG@10', 'gain R@10 / N@10 vs none',
            *(['s/epoch (train)'] if speed else []), 'best epochs',
            "epoch reaching none's best val NDCG@10", 'runs']
    lines = ['| ' + ' | '.join(head) + ' |', '| ' + ' | '.join(['---'] * len(head)) + ' |']
    for model in models:
        base = [runs[f'{model}/none/{s}'] for s in seeds if f'{model}/none/{s}' in runs]
        for init in inits:
            done = [runs[f'{model}/{init}/{s}'] for s in seeds if f'{model}/{init}/{s}' in runs]
            if not done:
                continue
            recall = [r['test']['recall@10'] for r in done]
            ndcg = [r['test']['ndcg@10'] for r in done]
            reach = []
            for s in seeds:
                b, r = runs.get(f'{model}/none/{s}'), runs.get(f'{model}/{init}/{s}')
                if b and r:
                    reach.append(str(first_epoch_reaching(r['val_curve'], max(b['val_curve']))
                                     or '-'))
            gain = ('-' if init == 'none' else
                    f'{_gain(recall, [r["test"]["recall@10"] for r in base])} / '
                    f'{_gain(ndcg, [r["test"]["ndcg@10"] for r in base])}')
            epoch_s = statistics.median(  # older records lack the train-only median
                r['train_epoch_seconds'] if 'train_epoch_seconds' in r
                else r['seconds_per_epoch'] for r in done)
            cells = [model, init, _fmt(recall), _fmt(ndcg), gain,
                     *([f'{epoch_s:.2f}'] if speed else []),
                     ', '.join(str(r['best_epoch']) for r in done), ', '.join(reach) or '-',
                     str(len(done))]
            lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def group_table(runs: Dict, models: List[str], inits: List[str], seeds: List[int],
                metric: str = 'ndcg@10') -> str:
    r"""Test :obj:`metric` per group of users by training interactions (the runs' optional
    ``test_by_user_degree``), mean over seeds, with the gain over ``none`` of the same model
    on the seeds where both have groups; empty if no run has them."""
    keyed = {k: r['test_by_user_degree'] for k, r in runs.items() if 'test_by_user_degree' in r}
    groups = list(dict.fromkeys(g for r in keyed.values() for g in r))
    if not groups:
        return ''
    lines = ['| model | init | ' + ' | '.join(f'{metric} of users with {g} training '
                                              'interactions' for g in groups) + ' | runs |',
             '| --- | --- | ' + ' | '.join('---' for _ in groups) + ' | --- |']
    for model in models:
        for init in inits:
            have = [s for s in seeds if f'{model}/{init}/{s}' in keyed]
            if not have:
                continue
            cells = []
            for g in groups:
                values = [keyed[f'{model}/{init}/{s}'][g][metric] for s in have
                          if g in keyed[f'{model}/{init}/{s}']]
                paired = [s for s in have if f'{model}/none/{s}' in keyed and init != 'none']
                base = [keyed[f'{model}/none/{s}'][g][metric] for s in paired]
                mine = [keyed[f'{model}/{init}/{s}'][g][metric] for s in paired]
                gain = f' ({_gain(mine, base)})' if base else ''
                cells.append(f'{statistics.mean(values):.4f}{gain}' if values else '-')
            lines.append(f'| {model} | {init} | ' + ' | '.join(cells) + f' | {len(have)} |')
    return '\n'.join(lines)


# The table: every init on the paper's backbones, none / variance on the others.
PAPER_GRID = {**{m: ('none', 'random', 'uniform', 'variance') for m in ('lightgcn', 'sgl', 'sgcl')},
              **{m: ('none', 'variance') for m in ('mf', 'ngcf', 'simgcl', 'xsimgcl')}}
PAPER_SEEDS = (2020, 2021, 2022)


def missing_runs(runs: Dict) -> List[str]:
    r"""The ``model/init/seed`` keys of :data:`PAPER_GRID` x :data:`PAPER_SEEDS` not in
    :obj:`runs`."""
    return [f'{m}/{i}/{s}' for m, inits in PAPER_GRID.items() for i in inits
            for s in PAPER_SEEDS if f'{m}/{i}/{s}' not in runs]


DOC_BEGIN, DOC_END = '<!-- init_grid table -->', '<!-- /init_grid table -->'


def device_name(run: Dict) -> str:
    r"""The machine a run recorded; runs stored before ``init_grid.py`` wrote "1 thread"
    say "1 threads", shown the new way so that both group together."""
    return run.get('device', 'device not recorded').replace(' 1 threads', ' 1 thread')


def update_doc(text: str, runs: Dict) -> str:
    r""":obj:`text` (a markdown document) with the part between :data:`DOC_BEGIN` and
    :data:`DOC_END` replaced by the table of :obj:`runs` (no speed column) and a count of
    the runs still missing from :data:`PAPER_GRID`."""
    begin, end = text.find(DOC_BEGIN), text.find(DOC_END)
    if begin < 0 or end < begin:
        raise SystemExit(f'error: the document has no {DOC_BEGIN} ... {DOC_END} block')
    models = [m for m in MODELS if any(k.startswith(f'{m}/') for k in runs)]
    inits = [i for i in INITS if any(f'/{i}/' in k for k in runs)]
    seeds = sorted({int(k.rsplit('/', 1)[1]) for k in runs})
    missing = missing_runs(runs)
    total = sum(len(i) for i in PAPER_GRID.values()) * len(PAPER_SEEDS)
    seeds_of: Dict[str, List[str]] = {}
    for key in missing:
        name, seed = key.rsplit('/', 1)
        seeds_of.setdefault(name, []).append(seed)
    note = (f'{total - len(missing)} of the {total} runs of the issue\'s grid are done'
            + ('; missing: ' + ', '.join(f'{k} ({", ".join(v)})' for k, v in seeds_of.items())
               + '.' if missing else '.'))
    hours: Dict[str, float] = {}
    for r in runs.values():
        device = device_name(r)
        hours[device] = hours.get(device, 0.0) + r.get('wall_seconds', 0.0) / 3600
    note += (' Run times added up, by device (runs overlapped two or more at a time, so the '
             'elapsed time was shorter): '
             + ', '.join(f'{d}: {h:.1f} h' for d, h in sorted(hours.items())) + '.')
    by_group = group_table(runs, models, inits, seeds)
    block = (f'{DOC_BEGIN}\n{table(runs, models, inits, seeds, speed=False)}\n\n{note}\n'
             + (f'\nBy user group (runs that recorded it; gain over none on the same seeds):'
                f'\n\n{by_group}\n' if by_group else ''))
    return text[:begin] + block + text[end:]


def load_runs(path: Path) -> Dict:
    runs = json.loads(path.read_text()) if path.exists() else {}
    # files written before the grid had a model axis: 'init/seed' keys are LightGCN runs
    return {(k if k.count('/') == 2 else f'lightgcn/{k}'): v for k, v in runs.items()}


def write_text(path: PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def report(runs: Dict, args: argparse.Namespace, todo: List, wall: float) -> str:
    r"""The markdown table of every run in the file, in a fixed order."""
    devices = sorted({f'{device_name(r)} (torch {r.get("torch", "?")})'
                      for r in runs.values() if 'device' in r})
    model_order = [m for m in MODELS if any(k.startswith(f'{m}/') for k in runs)]
    init_order = [i for i in INITS if any(f'/{i}/' in k for k in runs)]
    all_seeds = sorted({int(k.rsplit('/', 1)[1]) for k in runs})
    # What each run recorded, not this invocation's flags (a --merge run trains nothing);
    # the default is what runs stored before the field existed used.
    def recorded(field: str, default) -> str:
        values = {r.get(field, default) for r in runs.values()}  # numbers, or a scale's str
        return '/'.join(map(str, sorted(values, key=lambda v: (isinstance(v, str), v))))
    return (f'Devices: {"; ".join(devices) or platform.machine()}. '
            f'Encoder {recorded("encoder", args.encoder)}, scale {recorded("scale", "none")}, '
            f'epochs cap {recorded("epochs_cap", 300)}, batch {recorded("batch_size", 2048)}, '
            f'patience {recorded("patience", 10)}, warm-up {recorded("warmup", 0)}.'
            + (f' This invocation: {len(todo)} runs, {wall / 60:.1f} min wall with '
               f'--jobs {args.jobs}.' if todo else '') + '\n\n'
            + table(runs, model_order, init_order, all_seeds) + '\n'
            + (f'\n{groups}\n' if (groups := group_table(runs, model_order, init_order,
                                                         all_seeds)) else ''))


def main() -> None:
    parser = argparse.ArgumentParser(description='Prints the markdown table of init_grid.py '
                                     'JSON files (writes nothing).')
    parser.add_argument('json', nargs='+', help='grid files (init_grid.py --out)')
    parser.add_argument('--encoder', default='minilm',
                        help='shown for runs that did not record their encoder')
    args = parser.parse_args()
    for path in args.json:
        print(report(load_runs(Path(path)), args, [], 0.0))


if __name__ == '__main__':
    main()
