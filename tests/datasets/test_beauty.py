import torch

from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.datasets.beauty import ASSET
from pyg_llminit.datasets.graph import EDGE_TYPE, REV_EDGE_TYPE


def test_embedded_beauty_matches_source_counts(beauty):
    assert beauty['user'].num_nodes == 22_363
    assert beauty['item'].num_nodes == 12_101
    store = beauty[EDGE_TYPE]
    assert store.edge_index.size(1) == 198_502
    assert store.time.size(0) == 198_502
    assert torch.equal(beauty[REV_EDGE_TYPE].edge_index, store.edge_index.flip(0))
    # 5-core: every user and every item has at least 5 interactions.
    assert torch.bincount(store.edge_index[0]).min() >= 5
    assert torch.bincount(store.edge_index[1]).min() >= 5
    # No duplicate (user, item) pairs.
    key = store.edge_index[0] * 12_101 + store.edge_index[1]
    assert key.unique().numel() == key.numel()
    titles = beauty['item'].title
    assert len(titles) == 12_101 and sum(1 for t in titles if not t) == 7
    # Titles stay aligned with ASINs (from products_lookup.csv of the source).
    asin = beauty['item'].ids
    # (checked against item_id_to_int.json + products_lookup.csv of the source)
    assert titles[asin.index('7806397051')].startswith('WAWO 15 Color Professionl Makeup')
    assert titles[asin.index('B001FB5IIC')].startswith('Eucerin Original Healing')


def test_beauty_cache_reused_and_force_reload(tmp_path):
    AmazonBeauty(str(tmp_path))
    processed = tmp_path / 'processed' / 'data.pt'
    mtime = processed.stat().st_mtime_ns
    AmazonBeauty(str(tmp_path))
    assert processed.stat().st_mtime_ns == mtime
    AmazonBeauty(str(tmp_path), force_reload=True)
    assert processed.stat().st_mtime_ns != mtime
    assert ASSET.stat().st_size < 2_000_000  # compact file shipped in the package
