"""Builds the embedded Amazon Beauty file shipped in ``pyg_llminit/datasets/assets``.

Source: ``shared/data/amazon-beauty`` (see its SOURCE.md): ``user_sequence.txt`` (user ASIN,
then item ASINs oldest first), ``item_id_to_int.json`` and ``products_lookup.csv`` (titles).
Run once by a maintainer; users and tests only read the result::

    python scripts/make_beauty_asset.py ../shared/data/amazon-beauty
"""
import csv
import json
import sys
from pathlib import Path

import numpy as np

from pyg_llminit.datasets.beauty import ASSET
from pyg_llminit.io import atomic_path


def main(src: Path) -> None:
    users, items, positions = [], [], []
    for line in (src / 'user_sequence.txt').read_text().splitlines():
        user, *history = line.split()
        for pos, item in enumerate(history):
            users.append(user)
            items.append(item)
            positions.append(pos)
    asin_of = {v: k for k, v in json.loads((src / 'item_id_to_int.json').read_text()).items()}
    titles = {}
    with open(src / 'products_lookup.csv', newline='', encoding='utf-8') as f:
        for row in csv.DictReader(f):
            titles[asin_of[int(row['global_product_id'])]] = row['name'].replace('\n', ' ')
    user_vocab, user = np.unique(np.array(users), return_inverse=True)
    item_vocab, item = np.unique(np.array(items), return_inverse=True)
    blob = '\n'.join(titles.get(a, '') for a in item_vocab).encode('utf-8')
    with atomic_path(ASSET) as tmp:
        with open(tmp, 'wb') as f:
            np.savez_compressed(
                f, user=user.astype(np.int32), item=item.astype(np.int32),
                position=np.array(positions, dtype=np.int32),
                user_ids='\n'.join(user_vocab).encode(), item_ids='\n'.join(item_vocab).encode(),
                titles=np.frombuffer(blob, dtype=np.uint8))
    print(f'{ASSET}: {len(user_vocab)} users, {len(item_vocab)} items, {len(user)} interactions')


if __name__ == '__main__':
    main(Path(sys.argv[1]))
