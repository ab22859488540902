"""Effective rank against its definition on tables whose spectrum is known."""
import math

import numpy as np
import pytest
import torch

from pyg_llminit.evaluation.collapse import (abundance_of, collapse_report, effective_rank,
                                             information_abundance)


def table_with_spectrum(values, n=50, seed=0):
    r"""``U diag(values) V^T`` with random orthonormal ``U [n, k]`` and ``V [k, k]``."""
    gen = torch.Generator().manual_seed(seed)
    k = len(values)
    u, _ = torch.linalg.qr(torch.randn(n, k, generator=gen, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(k, k, generator=gen, dtype=torch.float64))
    return u @ torch.diag(torch.tensor(values, dtype=torch.float64)) @ v.t()


def test_effective_rank_matches_its_definition():
    assert effective_rank(table_with_spectrum([1.0] * 8)) == pytest.approx(8.0)
    assert effective_rank(table_with_spectrum([5.0] + [0.0] * 7)) == pytest.approx(1.0)
    values = [4.0, 2.0, 1.0, 1.0]
    p = [v / sum(values) for v in values]
    want = math.exp(-sum(x * math.log(x) for x in p))
    assert effective_rank(table_with_spectrum(values)) == pytest.approx(want)
    assert effective_rank(torch.zeros(5, 3)) == 0.0
    # scale-free: the same directions at any magnitude
    t = table_with_spectrum(values)
    assert effective_rank(1000 * t) == pytest.approx(effective_rank(t))


def test_information_abundance_is_the_sum_over_the_largest_singular_value():
    assert information_abundance([3.0, 3.0, 3.0]) == 3.0
    assert information_abundance([5.0, 0.0, 0.0]) == 1.0
    assert information_abundance([]) == information_abundance([0.0, 0.0]) == 0.0
    # one dominant direction: the effective rank stays higher than the abundance
    values = [10.0] + [1.0] * 9
    assert information_abundance(values) == pytest.approx(1.9)
    assert effective_rank(table_with_spectrum(values)) > 5
    report = collapse_report({'t': table_with_spectrum([4.0, 2.0, 1.0, 1.0])})['t']
    assert report['information_abundance'] == pytest.approx(2.0)


def test_abundance_of_a_record_old_or_new():
    record = collapse_report({'t': table_with_spectrum([4.0, 2.0, 1.0, 1.0])})['t']
    assert abundance_of(record) == record['information_abundance']
    older = {k: v for k, v in record.items() if k != 'information_abundance'}
    assert abundance_of(older) == pytest.approx(2.0, rel=1e-5)  # from the rounded spectrum


def test_report_on_a_beauty_sized_table():
    table = torch.randn(22_363 + 12_101, 128)
    report = collapse_report({'users': table[:22_363], 'items': table[22_363:]})
    assert report['users']['dims'] == 128 and len(report['users']['singular_values']) == 128
    assert 120 < report['users']['effective_rank'] <= 128  # Gaussian: nearly full rank
    values = report['items']['singular_values']
    expected = np.linalg.svd(table[22_363:].double().numpy(), compute_uv=False)
    np.testing.assert_allclose(values, expected, atol=5e-4)  # recorded to 3 decimals
