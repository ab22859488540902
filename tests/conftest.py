import numpy as np
import pytest

from pyg_llminit.datasets import AmazonBeauty, build_interaction_graph


@pytest.fixture(scope='session')
def beauty(tmp_path_factory):
    r"""The real embedded Amazon Beauty graph, processed once per test session."""
    return AmazonBeauty(str(tmp_path_factory.mktemp('beauty')))[0]


@pytest.fixture
def small_graph():
    r"""A random graph: 40 users with 4..12 interactions each over 30 items."""
    rng = np.random.default_rng(0)
    users, items, times = [], [], []
    for u in range(40):
        chosen = rng.choice(30, size=rng.integers(4, 13), replace=False)
        for t, i in enumerate(chosen):
            users.append(f'u{u:02d}')
            items.append(f'i{i:02d}')
            times.append(int(rng.integers(0, 10_000)))
    titles = {f'i{i:02d}': f'item {i}' for i in range(30)}
    return build_interaction_graph(users, items, time=times, item_text={'title': titles})
