"""README's main-results table against the committed comparisons it summarises: every
baseline and LLMInit mean, gain, paired p-value and 'every seed' claim is what
``benchmarks/results/compare/*/compare.json`` says."""
import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
COMPARE = ROOT / 'benchmarks' / 'results' / 'compare'

#: README row label -> (comparison folder, [LLMInit arm, ...], metric).
ROWS = {
    'LightGCN, `variance`': ('beauty-lightgcn', ['lightgcn/variance'], 'ndcg@10'),
    'LightGCN, `variance`, `--normalize minmax` (the authors\')': (
        'beauty-lightgcn-minmax', ['lightgcn/variance'], 'ndcg@10'),
    'LightGCN, `variance` from SmolLM2 (a decoder LLM), `--normalize minmax`': (
        'beauty-lightgcn-minmax', ['lightgcn/variance@smollm2'], 'ndcg@10'),
    'LightGCN, `variance` from MPNet (768-d), `--normalize minmax`': (
        'beauty-lightgcn-minmax', ['lightgcn/variance@mpnet'], 'ndcg@10'),
    'LightGCN, `random` / `uniform`': ('beauty-lightgcn',
                                       ['lightgcn/random', 'lightgcn/uniform'], 'ndcg@10'),
    'LightGCN, `pca` (not in the paper)': ('beauty-lightgcn-pca', ['lightgcn/pca'],
                                           'ndcg@10'),
    'SGL, `variance`': ('beauty-sgl', ['sgl/variance'], 'ndcg@10'),
    'SGCL, `variance`': ('beauty-sgcl', ['sgcl/variance'], 'ndcg@10'),
    'LightGCN, `--protocol paper`, Recall@10': ('beauty-lightgcn-paper',
                                                ['lightgcn/variance'], 'recall@10'),
    'new items (`--split cold-items:0.1`), `variance`': ('beauty-cold-items',
                                                         ['lightgcn/variance'], 'ndcg@10'),
    'MovieLens-100K, `variance`, `--patience 50`': ('ml100k-lightgcn-p50',
                                                    ['lightgcn/variance'], 'ndcg@10'),
}


def readme_rows():
    r"""``{label: [cells]}`` of the table under '## Main results'."""
    text = (ROOT / 'README.md').read_text()
    section = text[text.index('## Main results'):]
    section = section[:section.index('\n## ', 1)]
    rows = {}
    for line in section.splitlines():
        if line.startswith('| ') and not line.startswith('| ---'):
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows[cells[0]] = cells
    return rows


def significant(value: float) -> str:
    r"""A p-value as the README writes it: ``0.23`` from 0.1, ``0.005`` from 0.001 (one
    significant digit), ``2e-6`` below."""
    if value >= 0.1:
        return f'{value:.2f}'
    if value >= 0.001:
        return f'{value:.1g}'
    mantissa, exponent = f'{value:.0e}'.split('e')
    return f'{mantissa}e{int(exponent)}'


def test_the_table_covers_every_mapped_row():
    assert set(readme_rows()) - {'setting'} == set(ROWS)


@pytest.mark.parametrize('label', list(ROWS))
def test_a_main_result_matches_its_compare_json(label):
    folder, arms, metric = ROWS[label]
    summary = json.loads((COMPARE / folder / 'compare.json').read_text())['arms']
    cells = readme_rows()[label]
    base = summary[summary[arms[0]]['baseline']]['test'][metric]['mean']
    assert cells[1] == f'{base:.4f}', 'baseline mean'
    means = [summary[arm]['test'][metric]['mean'] for arm in arms]
    assert cells[2] == ' / '.join(f'{m:.4f}' for m in means), 'LLMInit mean'
    gains = [summary[arm]['gain'][metric] * 100 for arm in arms]
    # 'n/a' where the comparison lacks the per-user tables for a test over users
    ps = [(summary[arm]['paired'][metric] or {}).get('p') for arm in arms]
    for gain in gains:  # written to 1 decimal, or to whole percent where the README says so
        written = re.findall(r'([+-]\d+(?:\.\d)?)%', cells[3])
        assert any(math.isclose(float(w), round(gain, len(w.partition('.')[2])))
                   for w in written), f'gain {gain:.2f}% not in {cells[3]!r}'
    assert cells[4].split(' / ') == ['n/a' if p is None else significant(p) for p in ps], \
        'p over users'
    seed_ps = [summary[arm]['seed_paired'][metric]['p'] for arm in arms]
    assert cells[5].split(' / ') == [significant(p) for p in seed_ps], 'p over seeds'
    if 'every seed' in cells[3]:
        for arm in arms:
            per_seed = summary[arm]['per_seed']
            base_seed = summary[summary[arm]['baseline']]['per_seed']
            assert all(per_seed[s][metric] > base_seed[s][metric] for s in per_seed), arm
