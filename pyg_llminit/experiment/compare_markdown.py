"""``compare.md``: a comparison's summary (:func:`~pyg_llminit.experiment.summary.summarise`)
as markdown, and the test table that ``compare`` also prints last."""
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from .runs import RunFolder
from .significance import relative_gain
from .tables import markdown_table


def _percent(gain: Optional[float]) -> str:
    return 'n/a' if gain is None else f'{gain:+.1%}'


def _pm(value: Dict[str, float], digits: int = 4) -> str:
    return f'{value["mean"]:.{digits}f} ± {value["std"]:.{digits}f}'


def _reach_cells(entry: Dict) -> List[str]:
    reached = [r for r in entry['reach_baseline_best'].values() if r['arm']]
    n = len(entry['reach_baseline_best'])
    if not reached:
        return [f'0/{n}', 'never', 'never', '']
    epochs = statistics.fmean(r['arm']['epoch'] for r in reached)
    seconds = statistics.fmean(r['arm']['seconds'] for r in reached)
    base_seconds = statistics.fmean(r['baseline']['seconds'] for r in reached)
    return [f'{len(reached)}/{n}', f'{epochs:.0f}', f'{seconds:.0f}',
            f'{seconds / base_seconds:.2f}']


def _seed_cells(name: str, arms: Dict, seeds: Sequence[int], metric: str) -> List[str]:
    entry = arms[name]
    base = arms[entry['baseline']]['per_seed']
    values = [entry['per_seed'][str(s)][metric] for s in seeds]
    if entry['baseline'] == name:
        return [f'{v:.4f}' for v in values] + ['baseline', '']
    gains = [relative_gain(v, base[str(s)][metric]) for v, s in zip(values, seeds)]
    test = entry['seed_paired'][metric]
    p = '-' if test is None or test['p'] is None else f'{test["p"]:.2g}'
    return ([f'{v:.4f} ({_percent(g)})' for v, g in zip(values, gains)]
            + [f'{sum(g is not None and g > 0 for g in gains)}/{len(seeds)}', p])


def _missing_note(summary: Dict) -> List[str]:
    missing, kept = summary.get('missing_per_user'), summary.get('tests_kept', [])
    if not missing:
        return []
    lines = ['', f'Without a per-user table (`{RunFolder.PER_USER}`): {", ".join(missing)}. '
             'A test pairs an arm and its baseline on the seeds where both runs have one; '
             'an arm with no such seed has no test here.']
    if kept:
        lines[-1] += (' Kept from the earlier summary of the same runs, computed while '
                      f'their tables were there: {", ".join(kept)}.')
    return lines


def test_table(summary: Dict) -> Tuple[List[str], List[List[str]]]:
    r"""``(header, rows)`` of the arms' test metrics (mean +- std over seeds), gains over
    their baselines at the smallest cut-off, best epoch, epochs run and seconds per epoch:
    the first table of ``compare.md`` and the one ``compare`` prints last."""
    arms, k = summary['arms'], min(summary['settings']['config']['train']['topk'])
    shown = [m for m in next(iter(arms.values()))['test']
             if m.split('@')[0] in ('recall', 'ndcg')]
    gains = [m for m in shown if m.endswith(f'@{k}')]
    header = ['arm', *shown, *(f'gain {m}' for m in gains), 'best epoch', 'epochs', 's/epoch']
    rows = [[name, *(_pm(a['test'][m]) for m in shown),
             *(('baseline' if a['gain'] is None else _percent(a['gain'][m])) for m in gains),
             f'{a["best_epoch"]["mean"]:.0f}', f'{a["epochs_run"]["mean"]:.0f}',
             f'{a["seconds_per_epoch"]["mean"]:.2f}'] for name, a in arms.items()]
    return header, rows


def render_markdown(summary: Dict) -> str:
    r"""``compare.md``: setup, test metrics, paired tests, time to the baseline's best,
    groups, warnings and the plots."""
    cfg, arms = summary['settings']['config'], summary['arms']
    train, monitor = cfg['train'], summary['monitor']
    k = min(train['topk'])
    seeds = summary['settings']['seeds']
    metric_k = f'ndcg@{k}'
    training = sum(a['train_seconds']['mean'] * len(seeds) for a in arms.values())
    lines = [
        f'# Comparison on {cfg["graph"]}',
        '',
        f'Split {cfg["split"]} ('
        f'{"" if cfg["split"].startswith("cold-items") else cfg["order"] + " order, "}'
        f'split seed {cfg["split_seed"]}), '
        f'd {cfg["embedding_dim"]}, {cfg["num_layers"]} layers, batch {train["batch_size"]}, '
        f'Adam lr {train["lr"]}, L2 {cfg["reg_weight"]}, at most {train["epochs"]} epochs, '
        f'early stopping on validation {monitor} (patience {train["patience"]} after a '
        f'warm-up of {train["warmup"]}); seeds {", ".join(map(str, seeds))}; '
        f'{_how_trained(summary, training)}.',
        '',
        f'## Test metrics (mean ± std over {len(seeds)} seeds)',
        '',
        markdown_table(*test_table(summary)),
        '',
        '## Paired test over users',
        '',
        'Two-sided paired t-test over the test users, each user\'s metric averaged over the '
        'seeds first; arm minus baseline. Per-user NDCG is far from normal (most users '
        'score 0), but the mean of thousands of paired differences is close to normal, and '
        'on IR metrics the t-test agrees with the randomisation test where Wilcoxon and '
        'sign tests do not (Smucker, Allan and Carterette, CIKM 2007). The p-values are not '
        'corrected for the number of arms.',
        '',
        markdown_table(['arm', 'baseline', 'metric', 'users', 'seeds', 'difference',
                        '95% CI', 'p'],
                       [[name, a['baseline'], m, f'{t["users"]:,}', str(t['seeds']),
                         f'{t["mean_difference"]:+.4f}',
                         f'[{t["ci95"][0]:+.4f}, {t["ci95"][1]:+.4f}]', f'{t["p"]:.2g}']
                        for name, a in arms.items() if a['paired']
                        for m, t in a['paired'].items() if t]),
        *_missing_note(summary),
        '',
        '## Per seed',
        '',
        f'Test {metric_k} of each training run, and its gain over the baseline run with the '
        'same seed. The paired test above treats the trained models as fixed (its samples '
        'are users, not training runs); a gain whose sign changes from seed to seed is '
        'within training-run noise, whatever its p-value. The last column is a two-sided '
        'paired t-test over the seeds (one value per run; with 3 seeds, 2 degrees of '
        'freedom).',
        '',
        markdown_table(['arm', *(f'seed {s}' for s in seeds), 'seeds with a gain',
                        'p over seeds'],
                       [[name, *_seed_cells(name, arms, seeds, metric_k)] for name in arms]),
        '',
        f'## Time to the baseline\'s best validation {monitor}',
        '',
        'Per seed, the first epoch at which the arm\'s validation score reaches the best '
        'the baseline reached in its whole run (same seed), and the seconds of training and '
        'validation until then; the last column divides them by the baseline\'s own seconds '
        'to its best epoch. Means over the seeds that reached it.',
        '',
        markdown_table(['arm', 'baseline', 'seeds that reach it', 'epochs', 'seconds',
                        'share of baseline time'],
                       [[name, a['baseline'], *_reach_cells(a)] for name, a in arms.items()]),
    ]
    groups = next(iter(arms.values()))['groups']
    if groups:
        metric = f'ndcg@{k}'
        lines += ['', f'## Test {metric} by training interactions per user', '',
                  markdown_table(['users\' interactions', 'users', *arms],
                                 [[g, f'{groups[g]["users"]:,}',
                                   *(_pm(a['groups'][g][metric]) for a in arms.values())]
                                  for g in groups])]
    cold = [(name, a) for name, a in arms.items() if a.get('cold_references')]
    if cold:
        references = list(dict.fromkeys(r for _, a in cold for r in a['cold_references']))
        lines += ['', '## Held-out items: the model\'s map and the references', '',
                  f'Test on items never trained on (split {cfg["split"]}): the run\'s '
                  f'{cfg.get("cold_map", "ridge")} map from text to item embedding (the '
                  'arm\'s test metrics above) beside the other map, the item\'s own LLMInit '
                  'vector (LLMInit arms only), text similarity and random; mean ± std over '
                  'seeds.', '']
        for metric in (f'ndcg@{k}', f'recall@{k}'):
            lines += [markdown_table(
                ['arm', f'{metric}: {cfg.get("cold_map", "ridge")} map', *references],
                [[name, _pm(a['test'][metric]),
                  *(_pm(a['cold_references'][r][metric]) if r in a['cold_references']
                    else '-' for r in references)] for name, a in arms.items()]), '']
        lines += [f'Paired t-test over users (as above) of the map\'s ndcg@{k} against each '
                  'reference within the arm (map minus reference):', '',
                  markdown_table(['arm', 'reference', 'users', 'difference', '95% CI', 'p'],
                                 [[name, ref, f'{t["users"]:,}', f'{t["mean_difference"]:+.4f}',
                                   f'[{t["ci95"][0]:+.4f}, {t["ci95"][1]:+.4f}]',
                                   f'{t["p"]:.2g}']
                                  for name, a in cold for ref, t in a['cold_paired'].items()
                                  if t])]
    ranked = [(name, a) for name, a in arms.items() if a.get('effective_rank')]
    if ranked:
        tables = list(ranked[0][1]['effective_rank'])
        lines += ['', '## Embedding collapse of the trained tables', '',
                  'Effective rank / information abundance (sum of the singular values over '
                  f'the largest), each of {cfg["embedding_dim"]} dimensions at most; `ego` '
                  'is the layer-0 table, `propagated` what the model scores with (mean ± '
                  'std over seeds).', '',
                  markdown_table(['arm', *(t.replace('_', ' ') for t in tables)],
                                 [[name, *(_pm(a['effective_rank'][t], 1) + ' / ' +
                                           (_pm(a['information_abundance'][t], 1)
                                            if a.get('information_abundance') else '-')
                                           for t in tables)]
                                  for name, a in ranked])]
    warnings = [f'- {name}, seed {seed}: {w}' for name, a in arms.items()
                for seed, ws in a['warnings'].items() for w in ws]
    lines += ['', '## Warnings', ''] + (warnings or ['None: no run peaked early or hit the '
                                                     'epoch cap still improving.'])
    lines += ['', '## Plots', '', f'![validation {monitor} per epoch](curves.png)', '',
              '![test metrics per user group](groups.png)', '']
    return '\n'.join(lines)


def _how_trained(summary: Dict, training_seconds: float) -> str:
    r"""Device, jobs and wall time of the invocation that trained the runs, where known,
    and how many runs it trained when not all."""
    settings, kept = summary['settings'], summary.get('timing_kept')
    summed = f'{training_seconds / 60:.1f} min of training summed over the runs'
    trained, total = summary.get('runs_trained'), summary.get('runs_total')
    if trained == 0 and not kept:
        return (f'{summed}; no run trained in this invocation (the device, jobs and wall '
                'time of the one that did are not recorded)')
    if trained is None:
        count = ' (how many runs it trained is not recorded)'
    else:
        count = '' if trained == total else f', which trained {trained} of the {total} runs'
    where = 'the last invocation that trained runs' if kept else 'this invocation'
    return (f'{settings["device"]}, {settings["jobs"]} job(s) at once, {summed}, '
            f'{summary["wall_seconds"] / 60:.1f} min of wall time in {where}{count}'
            + (' (kept from the earlier summary)' if kept else ''))


__all__ = ['test_table', 'render_markdown']
