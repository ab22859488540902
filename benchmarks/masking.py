"""A comparison's trained models scored twice on test: with the user's seen items masked
(this package's default) and with every item ranked (RecBole's repeatable evaluation, which
the LLMInit authors' released config selects and ``--protocol paper`` follows).

The models are the runs' own best checkpoints (chosen on validation as the run was
evaluated), so the two columns differ only in what is ranked. For every arm: test
Recall@10 and NDCG@10, mean +- std over the seeds, both ways, and the gain over the
baseline arm both ways with a paired t-test over users (each user's value averaged over
the seeds, as ``compare`` tests). Needs the runs' ``best.pt`` (not committed: run it where
the comparison trained). Writes ``masking.json`` and ``masking.md`` into the folder.

Usage::

    python benchmarks/masking.py results/compare/beauty-lightgcn-paper [--device cpu]
"""
import argparse
from pathlib import Path
from typing import Dict, List, Optional

from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import RunFolder, evaluate_run, load_run
from pyg_llminit.experiment.plan import Arm
from pyg_llminit.experiment.significance import mean_std, paired_test, relative_gain
from pyg_llminit.experiment.tables import markdown_table
from pyg_llminit.io import atomic_path, write_json

METRICS = ('recall@10', 'ndcg@10')
WAYS = {'masked': True, 'all items': False}


def score_runs(folder: Path, device: str = 'cpu', root: Optional[str] = None
               ) -> Dict[str, Dict[int, Dict]]:
    r"""``{arm: {seed: {way: {'test': {metric: value}, 'per_user': columns}}}}`` of every
    finished run with weights (``columns`` as :func:`paired_test` takes them)."""
    scores: Dict[str, Dict[int, Dict]] = {}
    for path in sorted((folder / 'runs').iterdir()):
        named = Arm.of_folder(path.name)
        if not (named and (path / RunFolder.RESULTS).exists()
                and (path / RunFolder.BEST).exists()):
            continue
        arm, seed = named[0].name, named[1]
        scores.setdefault(arm, {})[seed] = both_ways(load_run(path, root=root,
                                                              device=device))
        print(f'{path.name}: ' + ', '.join(
            f'{way} ' + ' '.join(f'{m} {v:.4f}' for m, v in values['test'].items())
            for way, values in scores[arm][seed].items()), flush=True)
    if not scores:
        raise UserInputError(f'{folder}: no finished run with its best.pt under runs/')
    return scores


def both_ways(run) -> Dict[str, Dict]:
    r"""``{way: {'test': {metric: value}, 'per_user': columns}}``: a loaded run's test
    metrics with seen items masked and with every item ranked (:data:`WAYS`)."""
    return {way: _scored(evaluate_run(run, 'test', k=(10,), user_groups=None,
                                      item_groups=None, mask_seen=mask, per_user=True))
            for way, mask in WAYS.items()}


def _scored(result: Dict) -> Dict:
    per_user = result['test_per_user']
    return {'test': {m: v for m, v in result['test'].items() if m in METRICS},
            'per_user': {m: per_user[m] for m in ('user', *METRICS)}}


def summarise(scores: Dict[str, Dict[int, Dict]], baseline: str) -> Dict[str, Dict]:
    r"""Per arm and way: each metric's mean +- std over the seeds, its gain over the
    baseline arm's mean (the same way) and the paired t-test over users against it."""
    out: Dict[str, Dict] = {}
    for arm, seeds in scores.items():
        out[arm] = {'seeds': sorted(seeds)}
        for way in WAYS:
            out[arm][way] = {m: mean_std([seeds[s][way]['test'][m] for s in sorted(seeds)])
                             for m in METRICS}
    def per_user(arm: str, way: str) -> Dict[int, Dict]:
        return {seed: score[way]['per_user'] for seed, score in scores[arm].items()}

    for arm in out:
        for way in WAYS:
            for m in METRICS:
                own = out[arm][way][m]
                own['gain'] = None if arm == baseline else relative_gain(
                    own['mean'], out[baseline][way][m]['mean'])
                own['paired'] = None if arm == baseline else paired_test(
                    per_user(arm, way), per_user(baseline, way), m)
    return out


def _against_baseline(value: Dict) -> str:
    parts = ([] if value['gain'] is None else [f'{value["gain"]:+.1%}']) + (
        [] if value['paired'] is None else [f'p {value["paired"]["p"]:.2g}'])
    return f' ({", ".join(parts)})' if parts else ''


def render(folder: Path, summary: Dict[str, Dict], baseline: str) -> str:
    header = ['arm', 'seeds']
    for way in WAYS:
        header += [f'{m}, {way}' for m in METRICS]
    rows: List[List[str]] = []
    for arm, row in summary.items():
        cells = [arm, ', '.join(map(str, row['seeds']))]
        for way in WAYS:
            for m in METRICS:
                v = row[way][m]
                cells.append(f'{v["mean"]:.4f} ± {v["std"]:.4f}{_against_baseline(v)}')
        rows.append(cells)
    return '\n'.join([
        '# Test metrics with seen items masked and with every item ranked', '',
        f'Folder `{folder.name}`; the same best checkpoints scored both ways; mean ± std over '
        f'seeds; in brackets the gain over `{baseline}` (same way) and the p-value of a '
        'two-sided paired t-test over users, each user\'s value averaged over the seeds '
        '(as `compare` tests). "masked": the user\'s '
        'training and validation items are not ranked; "all items": RecBole\'s repeatable '
        'evaluation, every item ranked.', '', markdown_table(header, rows), ''])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('folder')
    parser.add_argument('--baseline', default=None,
                        help="The reference arm, e.g. lightgcn/none (default: the arm whose "
                        "init is 'none', else the first)")
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--root', default=None, help='Cache folder of processed graphs')
    args = parser.parse_args()
    folder = Path(args.folder)
    try:
        scores = score_runs(folder, args.device, args.root)
    except (UserInputError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}') from None
    baseline = args.baseline or next((a for a in scores if a.endswith('/none')),
                                     next(iter(scores)))
    if baseline not in scores:
        raise SystemExit(f"error: --baseline '{baseline}' is not among the arms "
                         f"({', '.join(scores)})")
    summary = summarise(scores, baseline)
    write_json(folder / 'masking.json', {'baseline': baseline, 'arms': summary})
    text = render(folder, summary, baseline)
    with atomic_path(folder / 'masking.md') as tmp:
        tmp.write_text(text)
    print(text)


if __name__ == '__main__':
    main()
