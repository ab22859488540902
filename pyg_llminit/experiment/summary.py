"""A comparison's summary from its run folders: test metrics over seeds, gains over the
baseline, a paired test over users, the time each arm needs to reach the baseline's best
validation score, metrics per user group; written as ``compare.json``, ``compare.md`` and
two plots.

The statistics are in :mod:`.significance`.
"""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ..io import atomic_path, write_json
from .plan import shared_settings
from .config import ExperimentConfig
from .runs import RunFolder
from .significance import mean_std, paired_test, relative_gain, seed_test


def _reach(history: List[Dict], target: float, monitor: str) -> Optional[Dict[str, float]]:
    r"""The first epoch whose validation score reaches :obj:`target`, and the training
    seconds (validation included) until then; ``None`` if none does."""
    seconds = 0.0
    for entry in history:
        seconds += entry['seconds']
        if entry['val'][monitor] >= target:
            return {'epoch': entry['epoch'], 'seconds': seconds}
    return None


def summarise(out: Path, arms: Sequence, seeds: Sequence[int], baseline_of: Dict,
              base: ExperimentConfig, wall_seconds: float, jobs: int, device: str) -> Dict:
    r"""The summary of a comparison's finished run folders (see the module's docstring)."""
    monitor, k = base.train.monitor, min(base.train.topk)
    runs, per_user, history = {}, {}, {}
    for arm in arms:
        for seed in seeds:
            folder = RunFolder(out / 'runs' / arm.folder(seed))
            runs[arm, seed] = json.loads((folder.path / folder.RESULTS).read_text())
            history[arm, seed] = json.loads((folder.path / folder.HISTORY).read_text())
            per_user[arm, seed] = folder.read_per_user(missing_ok=True)
    summary: Dict = {'settings': {'config': shared_settings(base), 'seeds': list(seeds),
                                  'jobs': jobs, 'device': device},
                     'wall_seconds': wall_seconds, 'monitor': monitor,
                     'missing_per_user': [arm.folder(seed) for arm in arms for seed in seeds
                                          if per_user[arm, seed] is None],
                     'arms': {}}
    for arm in arms:
        ref = baseline_of[arm]
        results = [runs[arm, s] for s in seeds]
        test = {m: mean_std([r['test'][m] for r in results]) for m in results[0]['test']}
        entry: Dict = {
            'model': arm.model, 'init': arm.init, 'baseline': ref.name,
            'encoder': None if arm.init == 'none' else arm.encoder or base.encoder,
            'test': test,
            'gain': None if ref == arm else {
                m: relative_gain(test[m]['mean'],
                                 mean_std([runs[ref, s]['test'][m] for s in seeds])['mean'])
                for m in test},
            'paired': None if ref == arm else {
                m: paired_test({s: per_user[arm, s] for s in seeds},
                               {s: per_user[ref, s] for s in seeds}, m)
                for m in (f'ndcg@{k}', f'recall@{k}')},
            'per_seed': {str(s): {m: runs[arm, s]['test'][m] for m in (f'ndcg@{k}',
                                                                         f'recall@{k}')}
                         for s in seeds},
            'seed_paired': None if ref == arm else {
                m: seed_test([runs[arm, s]['test'][m] for s in seeds],
                             [runs[ref, s]['test'][m] for s in seeds])
                for m in (f'ndcg@{k}', f'recall@{k}')},
            **{key: mean_std([r[key] for r in results])
               for key in ('best_epoch', 'epochs_run', 'train_seconds', 'seconds_per_epoch')},
            'groups': _groups(results),
            **_collapse(results),
            'cold_references': {
                name: {m: mean_std([r['test_cold_references'][name][m] for r in results])
                       for m in results[0]['test_cold_references'][name]}
                for name in results[0].get('test_cold_references', {})},
            'cold_paired': {
                name: paired_test({s: per_user[arm, s] for s in seeds},
                                  {s: per_user[arm, s] for s in seeds}, f'ndcg@{k}',
                                  f'{name} ndcg@{k}')
                for name in results[0].get('test_cold_references', {})},
            'curves': {str(s): [h['val'][monitor] for h in history[arm, s]] for s in seeds},
            'warnings': {str(s): runs[arm, s].get('warnings', []) for s in seeds
                         if runs[arm, s].get('warnings')},
        }
        reach = {}
        for s in seeds:
            target = max(h['val'][monitor] for h in history[ref, s])
            reach[str(s)] = {'target': target, 'arm': _reach(history[arm, s], target, monitor),
                             'baseline': _reach(history[ref, s], target, monitor)}
        entry['reach_baseline_best'] = reach
        summary['arms'][arm.name] = entry
    return summary


def _collapse(results: List[Dict]) -> Dict[str, Dict]:
    r"""``{'effective_rank': {table: mean +- std}, 'information_abundance': ...}`` over the
    runs (older runs' abundance from their spectrum); empty tables when a run has no
    record."""
    from ..evaluation.collapse import abundance_of
    if not all('embedding_collapse' in r for r in results):
        return {'effective_rank': {}, 'information_abundance': {}}
    names = results[0]['embedding_collapse']
    return {'effective_rank': {n: mean_std([r['embedding_collapse'][n]['effective_rank']
                                             for r in results]) for n in names},
            'information_abundance': {n: mean_std([abundance_of(r['embedding_collapse'][n])
                                                    for r in results]) for n in names}}


def keep_earlier_timing(summary: Dict, previous: Dict) -> None:
    r"""Puts back how the runs were trained, as :obj:`previous` (the comparison's earlier
    ``compare.json``) recorded it, into the :obj:`summary` of an invocation that trained
    nothing: its wall time, jobs, device and ``runs_trained``, which summarising again
    must not overwrite with its own few seconds. Sets ``summary['timing_kept']``.

    Keeps nothing when :obj:`previous` summarised other seeds or arms, or did not train
    either and knew no earlier timing (a summary from before ``runs_trained`` existed
    counts as such when its wall time is under a second)."""
    if (previous['settings']['seeds'] != summary['settings']['seeds']
            or set(previous['arms']) != set(summary['arms'])):
        return
    trained, wall = previous.get('runs_trained'), float(previous['wall_seconds'])
    if not previous.get('timing_kept') and (trained == 0 or trained is None and wall < 1):
        return
    jobs, device = int(previous['settings']['jobs']), str(previous['settings']['device'])
    summary['settings'].update(jobs=jobs, device=device)
    summary.update(wall_seconds=wall, runs_trained=trained, timing_kept=True)


def keep_earlier_tests(summary: Dict, previous: Dict) -> Dict:
    r"""Puts back the paired tests of :obj:`previous` (the comparison's earlier
    ``compare.json``) that :obj:`summary` could only redo on fewer seeds, or not at all,
    because per-user tables have gone since (comparisons are committed without them). An
    earlier test is kept only where it is of the same runs: the arm and its baseline have
    the same per-seed test metrics in both summaries (the same test means and spreads,
    where the earlier one predates per-seed metrics). Names what it kept in
    ``summary['tests_kept']``."""
    def same_runs(old: Dict, new: Dict) -> bool:
        key = 'per_seed' if 'per_seed' in old else 'test'
        return old.get(key) == new.get(key)

    kept = []  # read every earlier test first: a malformed one changes nothing
    arms, before = summary['arms'], previous.get('arms', {})
    for name, arm in arms.items():
        old, ref = before.get(name), arm['baseline']
        if (not old or old.get('baseline') != ref or ref not in before
                or not same_runs(old, arm) or not same_runs(before[ref], arms[ref])):
            continue
        for key in ('paired', 'cold_paired'):
            for metric, test in (arm.get(key) or {}).items():
                earlier = (old.get(key) or {}).get(metric)
                if earlier and (test is None or test['seeds'] < earlier.get('seeds', 0)):
                    kept.append((name, key, metric, earlier))
    for name, key, metric, earlier in kept:
        arms[name][key][metric] = earlier
    summary['tests_kept'] = [f'{name} {metric}' for name, _, metric, _ in kept]
    return summary


def _groups(results: List[Dict]) -> Dict[str, Dict]:
    groups = results[0].get('test_by_user_degree') or {}
    return {g: {'users': groups[g]['users'],
                **{m: mean_std([r['test_by_user_degree'][g][m] for r in results])
                   for m in groups[g] if m != 'users'}}
            for g in groups}


def write_summary(out: Path, summary: Dict) -> None:
    r"""``compare.json``, ``curves.png``, ``groups.png`` and, last, ``compare.md``."""
    from .compare_markdown import render_markdown
    from .plots import group_bars, validation_curves
    write_json(out / 'compare.json', summary)
    monitor = summary['monitor']
    arms = summary['arms']
    config = summary['settings']['config']
    split = config['split'] + (f", {config['order']} order" if config['split'] == 'loo' else
                               ', ranking the held-out items' if 'cold' in config['split']
                               else '')
    models = sorted({name.split('/')[0] for name in arms})
    context = f"{config['graph']}, {split}, {', '.join(models)}"
    validation_curves({name: a['curves'] for name, a in arms.items()}, monitor,
                      out / 'curves.png', context)
    group_bars({name: a['groups'] for name, a in arms.items()}, monitor, out / 'groups.png',
               context=context)
    with atomic_path(out / 'compare.md') as tmp:
        tmp.write_text(render_markdown(summary))


__all__ = ['summarise', 'keep_earlier_tests', 'keep_earlier_timing', 'write_summary']
