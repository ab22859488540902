"""Finished comparisons side by side: the same arms under two or more settings that
``compare`` holds fixed within one folder (L2 weight, protocol, patience, ...).

For every arm found in all folders: test metrics (mean +- std over seeds) per folder, and
the settings in which the folders differ (a setting that an older folder does not record
counts as the default it had before the setting existed). Where the folders share the graph,
split and split seed (so the same users are tested on the same held-out items), also a paired
t-test over users of each folder against the first, on the per-user NDCG and Recall at the
smallest cut-off (10 by default), averaged over the seeds both ran (see
:mod:`pyg_llminit.experiment.significance`).

Usage::

    python benchmarks/side_by_side.py results/compare/beauty-lightgcn \\
        results/compare/beauty-lightgcn-reg0 [--out side_by_side.md]
"""
import argparse
import json
from pathlib import Path

from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import RunFolder
from pyg_llminit.experiment.plan import with_defaults
from pyg_llminit.experiment.significance import paired_test
from pyg_llminit.experiment.tables import markdown_table
from pyg_llminit.io import read_json

SAME_TEST = ('graph', 'split', 'order', 'split_seed', 'min_rating', 'k_core')


def flat(settings, prefix=''):
    r"""``{'train.lr': 0.001, ...}`` of nested settings."""
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict) and key != 'model_options':
            out.update(flat(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


def per_user(folder: Path, arm: str, seeds):
    model, init = arm.split('/')
    return {s: RunFolder(folder / 'runs' / f'{model}-{init}-seed{s}').read_per_user(
        missing_ok=True) for s in seeds}


def read_summary(folder: Path) -> dict:
    r"""A finished comparison's ``compare.json``; anything else is one user error."""
    if not (folder / 'compare.json').is_file():
        raise UserInputError(f'{folder}: no compare.json (not a finished comparison)')
    return read_json(folder / 'compare.json')


def render(folders) -> str:
    summaries = [read_summary(f) for f in folders]
    settings = [flat(with_defaults(s['settings']['config'])) for s in summaries]
    differ = sorted(k for k in set().union(*settings)
                    if len({json.dumps(s.get(k)) for s in settings}) > 1)
    names = [f.name for f in folders]
    lines = ['# Side by side', '', 'Folders: ' + ', '.join(f'`{f.as_posix()}`' for f in folders),
             '', 'Settings that differ:', '',
             markdown_table(['setting', *names],
                            [[k, *(json.dumps(s.get(k)) for s in settings)] for k in differ]),
             '']
    arms = [a for a in summaries[0]['arms'] if all(a in s['arms'] for s in summaries)]
    ks = [min(s['settings']['config']['train']['topk']) for s in summaries]
    if len(set(ks)) > 1:
        raise SystemExit(f'error: the folders rank at different smallest cut-offs {ks}')
    metrics = (f'recall@{ks[0]}', f'ndcg@{ks[0]}')
    for metric in metrics:
        lines += [f'## Test {metric} (mean ± std over seeds)', '',
                  markdown_table(['arm', *names], [
                      [arm, *(f'{s["arms"][arm]["test"][metric]["mean"]:.4f} ± '
                              f'{s["arms"][arm]["test"][metric]["std"]:.4f}'
                              for s in summaries)] for arm in arms]), '']
    if any(k.split('.')[-1] in SAME_TEST for k in differ):
        lines += ['No paired test: the folders do not test the same users on the same items.']
        return '\n'.join(lines) + '\n'
    rows = []
    for arm in arms:
        for folder, summary in zip(folders[1:], summaries[1:]):
            seeds = sorted(set(summaries[0]['settings']['seeds'])
                           & set(summary['settings']['seeds']))
            if not seeds:
                raise SystemExit(f'error: {folders[0]} and {folder} share no seed')
            first, other = per_user(folders[0], arm, seeds), per_user(folder, arm, seeds)
            for metric in reversed(metrics):
                t = paired_test(other, first, metric)
                if t is None:
                    rows.append([arm, folder.name, metric, 'no per-user tables', '', '', '',
                                 ''])
                    continue
                rows.append([arm, folder.name, metric, f'{t["users"]:,}', str(t['seeds']),
                             f'{t["mean_difference"]:+.5f}',
                             f'[{t["ci95"][0]:+.5f}, {t["ci95"][1]:+.5f}]', f'{t["p"]:.2g}'])
    lines += [f'## Paired t-test over users against `{names[0]}`', '',
              markdown_table(['arm', 'folder', 'metric', 'users', 'seeds',
                              'difference', '95% CI', 'p'], rows)]
    return '\n'.join(lines) + '\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folders', nargs='+', type=Path)
    parser.add_argument('--out', type=Path, help='also write the markdown here')
    args = parser.parse_args()
    if len(args.folders) < 2:
        raise SystemExit('error: give at least two comparison folders')
    try:
        text = render(args.folders)
    except UserInputError as e:  # a folder that is not a finished comparison
        raise SystemExit(f'error: {e}') from None
    print(text)
    if args.out:
        from pyg_llminit.io import atomic_path
        with atomic_path(args.out) as tmp:
            tmp.write_text(text)


if __name__ == '__main__':
    main()
