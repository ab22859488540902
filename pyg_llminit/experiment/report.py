"""A report of finished runs, several overlaid: ``report.md`` with their results side by
side, and PNG plots of the validation curves, the training loss, test metrics per user
group and per item-popularity group, and the singular-value spectra of the trained tables
(embedding collapse)."""
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

from ..errors import UserInputError
from ..evaluation.collapse import abundance_of
from ..io import atomic_path, check_outside_run, check_writable_folder
from .runs import RunFolder
from .tables import markdown_table


def _load(run_dir: Path) -> Dict:
    folder = RunFolder(run_dir)
    folder._require((folder.CONFIG, folder.RESULTS, folder.HISTORY), 'a finished')
    try:
        results = json.loads((run_dir / folder.RESULTS).read_text())
        history = json.loads((run_dir / folder.HISTORY).read_text())
        # what the report reads, so that a foreign file fails here, not halfway through
        config, train = results['config'], results['config']['train']
        if not all(isinstance(v, str) for v in (config['model'], config['init'],
                                                 train['monitor'])):
            raise TypeError('model, init and monitor must be names')
        if not (isinstance(results['test'], dict) and isinstance(history, list)
                and all(isinstance(h['val'], dict) for h in history)):
            raise TypeError('test metrics or epochs of an unexpected form')
        int(results['best_epoch']), int(results['epochs_run']), list(train['topk'])
        [float(h['loss']) for h in history]
    except ValueError as e:
        raise UserInputError(f'{run_dir}: a malformed results or history file ({e})') \
            from None
    except (KeyError, TypeError, AttributeError) as e:
        raise UserInputError(f'{run_dir}: its results or history file is not one that '
                             f'train writes ({type(e).__name__}: {e})') from None
    return {'results': results, 'history': history}


def _common_metrics(loaded: Dict[str, Dict]) -> Tuple[str, int]:
    r"""The validation metric every run recorded per epoch (the first run's monitor) and
    the smallest cut-off at which every run has test metrics."""
    first = next(iter(loaded.values()))['results']['config']['train']['monitor']
    for name, run in loaded.items():
        if any(first not in h['val'] for h in run['history']):
            raise UserInputError(f"run {name} has no validation {first} in every epoch "
                                 'of its history: report runs that monitor the same metric')
    shared = set.intersection(*({int(m.split('@')[1]) for m in r['results']['test']
                                 if m.startswith('ndcg@')} for r in loaded.values()))
    if not shared:
        raise UserInputError('the runs share no test cut-off (their --topk): report runs '
                             'with a common one')
    return first, min(shared)


def _names(runs: Sequence[Path]) -> List[str]:
    names = [p.name for p in runs]
    if len(set(names)) < len(names):  # the same name in several folders: longer names
        names = [p.as_posix() for p in runs]
    return names


def _single(groups: Dict) -> Dict:
    r"""One run's groups in the ``{'mean', 'std'}`` form of the comparison plots."""
    return {g: {k: (v if k in ('users', 'items') else {'mean': v, 'std': 0.0})
                for k, v in values.items()} for g, values in groups.items()}


def report(runs: Sequence[Union[str, Path]], out: Union[str, Path]) -> Path:
    r"""Writes ``report.md`` and its plots for the finished :obj:`runs` into :obj:`out`
    (created; its earlier report files are replaced) and returns the markdown file."""
    from .plots import curves, group_bars
    if not runs:
        raise UserInputError('name at least one finished run folder to report on')
    paths = [Path(r) for r in runs]
    loaded = {name: _load(p) for name, p in zip(_names(paths), paths)}
    monitor, k = _common_metrics(loaded)
    out = Path(out)
    for path in paths:
        check_outside_run(out, path)
    check_writable_folder(out, 'out')
    out.mkdir(parents=True, exist_ok=True)
    plots = ['curves.png', 'loss.png']
    curves({n: {'': [h['val'][monitor] for h in r['history']]} for n, r in loaded.items()},
           out / 'curves.png', 'epoch', f'validation {monitor}', f'Validation {monitor}')
    curves({n: {'': [h['loss'] for h in r['history']]} for n, r in loaded.items()},
           out / 'loss.png', 'epoch', 'training loss', 'Training loss (BPR and the '
           "backbone's other terms)", log_y=True)
    for key, png, xlabel, count in (
            ('test_by_user_degree', 'user_groups.png', 'training interactions per user',
             'users'),
            ('test_by_item_popularity', 'item_groups.png',
             'popularity of the held-out item', 'items')):
        if all(key in r['results'] for r in loaded.values()):
            group_bars({n: _single(r['results'][key]) for n, r in loaded.items()},
                       f'ndcg@{k}', out / png, xlabel, count)
            plots.append(png)
    if all('embedding_collapse' in r['results'] for r in loaded.values()):
        spectra = {f'{n} {table.split("_")[0]}': {'': r['results']['embedding_collapse']
                                                  [table]['singular_values']}
                   for n, r in loaded.items() for table in ('user_propagated',
                                                            'item_propagated')}
        curves(spectra, out / 'spectra.png', 'index', 'singular value',
               'Singular values of the trained propagated tables', log_y=True)
        plots.append('spectra.png')
    path = out / 'report.md'
    with atomic_path(path) as tmp:
        tmp.write_text(_markdown(loaded, paths, plots, k))
    return path


def _markdown(loaded: Dict[str, Dict], paths: Sequence[Path], plots: List[str],
              k: int) -> str:
    metrics = [m for m in next(iter(loaded.values()))['results']['test']
               if m.endswith(f'@{k}') and m.split('@')[0] in ('recall', 'ndcg', 'hit')]
    rows = []
    for name, run in loaded.items():
        r, cfg = run['results'], run['results']['config']
        rank = r.get('embedding_collapse', {}).get('item_propagated', {})
        rows.append([name, cfg['model'], cfg['init'], *(f'{r["test"][m]:.4f}' for m in metrics),
                     str(r['best_epoch']), str(r['epochs_run']),
                     f'{rank["effective_rank"]:.1f}' if rank else '-',
                     f'{abundance_of(rank):.1f}' if rank else '-'])
    lines = ['# Report', '', 'Runs: ' + ', '.join(f'`{p}`' for p in paths) + '.', '',
             markdown_table(['run', 'model', 'init', *(f'test {m}' for m in metrics),
                             'best epoch', 'epochs', 'item erank', 'item IA'], rows), '',
             'erank: effective rank, IA: information abundance of the propagated item '
             'table (see `pyg_llminit.evaluation.collapse`).', '']
    for name, run in loaded.items():
        for warning in run['results'].get('warnings', []):
            lines.append(f'- warning, {name}: {warning}')
    lines += [''] + [f'![{png[:-4]}]({png})\n' for png in plots]
    return '\n'.join(lines)


__all__ = ['report']
