"""The statistics of a comparison: relative gains, mean and spread over seeds, the paired
test over users and the paired test over training seeds.

The paired test is a two-sided paired t-test over the test users on their per-user metric
(averaged over the seeds first, so a user counts once). Per-user NDCG@10 is far from normal
(most users score 0), but the test is on the mean of thousands of paired differences, which
the central limit theorem makes close to normal; on IR metrics the paired t-test agrees with
the distribution-free randomisation test, while the Wilcoxon and sign tests do not
(Smucker, Allan and Carterette, CIKM 2007). It treats the trained models as fixed: its
samples are users, not training runs, so it says nothing of seed-to-seed variation. The
test over seeds does: a two-sided paired t-test of each seed's test metric against the
baseline run of the same seed (with 3 seeds, 2 degrees of freedom: it needs a large and
steady gain to reach a small p).
"""
import statistics
from typing import Dict, Optional, Sequence


#: What :func:`paired_test` computes, as ``compare.json`` names it.
PAIRED_TEST = 'two-sided paired t-test over users, per-user values averaged over seeds'
#: What :func:`seed_test` computes, as ``compare.json`` names it.
SEED_TEST = 'two-sided paired t-test over training seeds, one test value per run'


def relative_gain(value: float, base: float) -> Optional[float]:
    r"""``value / base - 1``; ``None`` (no gain to speak of) when the baseline scored 0."""
    return value / base - 1 if base else None


def mean_std(values: Sequence[float]) -> Dict[str, float]:
    r"""``{'mean', 'std'}`` of :obj:`values` (sample std; 0 for one value)."""
    return {'mean': statistics.fmean(values),
            'std': statistics.stdev(values) if len(values) > 1 else 0.0}


def paired_test(arm: Dict[int, 'object'], base: Dict[int, 'object'], metric: str,
                base_metric: Optional[str] = None) -> Optional[Dict]:
    r"""Two-sided paired t-test over users of :obj:`metric`, each user's value averaged
    over the seeds that both arms have per-user columns for (``arm``/``base``: seed ->
    columns of :meth:`RunFolder.read_per_user`, or ``None`` where a run's table is
    missing), against the baseline's :obj:`base_metric` column (default: the same).

    Returns:
        ``{'test', 'users', 'seeds', 'mean_difference', 'ci95', 't', 'p'}`` (arm minus
        baseline; ``'test'`` names the test, see the module's docstring for why this one),
        or ``None`` when no seed has both tables.
    """
    import torch
    from scipy.stats import ttest_rel
    seeds = sorted(s for s in set(arm) & set(base)
                   if arm[s] is not None and base[s] is not None)
    if not seeds:
        return None
    for seed in seeds:
        if not torch.equal(arm[seed]['user'], base[seed]['user']):
            raise ValueError('the runs were tested on different users')
    a = torch.stack([arm[s][metric] for s in seeds]).mean(0).double().numpy()
    b = torch.stack([base[s][base_metric or metric] for s in seeds]).mean(0).double().numpy()
    result = ttest_rel(a, b)
    low, high = result.confidence_interval(0.95)
    return {'test': PAIRED_TEST, 'users': int(a.size), 'seeds': len(seeds),
            'mean_difference': float((a - b).mean()), 'ci95': [float(low), float(high)],
            't': float(result.statistic), 'p': float(result.pvalue)}


def seed_test(arm: Sequence[float], base: Sequence[float]) -> Optional[Dict]:
    r"""Two-sided paired t-test over training seeds: :obj:`arm`'s test value of each seed
    against :obj:`base`'s of the same seed.

    Returns:
        ``{'test', 'seeds', 'mean_difference', 't', 'p'}`` (arm minus baseline), or
        ``None`` with fewer than two seeds. Equal differences on every seed give ``t`` and
        ``p`` of ``None`` (no spread to test against).
    """
    from scipy.stats import ttest_rel
    if len(arm) != len(base):
        raise ValueError('one baseline value per seed is needed')
    if len(arm) < 2:
        return None
    differences = [a - b for a, b in zip(arm, base)]
    result = {'test': SEED_TEST, 'seeds': len(arm),
              'mean_difference': statistics.fmean(differences), 't': None, 'p': None}
    if len(set(differences)) > 1:
        test = ttest_rel(arm, base)
        result.update(t=float(test.statistic), p=float(test.pvalue))
    return result


__all__ = ['PAIRED_TEST', 'SEED_TEST', 'relative_gain', 'mean_std', 'paired_test',
           'seed_test']
