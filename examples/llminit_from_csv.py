"""LLMInit on your own data: item titles and interactions from two CSV files.

What it shows: everything LLMInit needs is a folder with
``interactions.csv`` (``user_id,item_id,timestamp``) and ``items.csv`` (``item_id,title``).
The script loads it with ``load_local_graph``, splits it leave-one-out per user, encodes the
titles with MiniLM (``encode_items``; cached in ``--cache-dir``, default
``$PYG_LLMINIT_HOME/embeddings``), applies ``LLMInit(E, dim=32)`` to the TRAINING graph,
trains PyG's ``torch_geometric.nn.LightGCN`` from those features with BPR, and prints the
validation Recall@10 and the top-5 recommended titles for one user.

Run::

    python examples/llminit_from_csv.py --demo demo_shop      # write a small demo folder, use it
    python examples/llminit_from_csv.py --data my_folder --user alice --epochs 100

The demo has 30 made-up shoppers and 20 made-up beauty products in four kinds (skin care,
hair care, make-up, fragrance); each shopper mostly buys one kind.
"""
import argparse
import csv
import os
import random

import torch
from torch_geometric.nn import LightGCN

from pyg_llminit.datasets import load_local_graph
from pyg_llminit.evaluation import RankingEvaluator
from pyg_llminit.models import embedding_scores
from pyg_llminit.transforms.split import LeaveOneOutSplit
from pyg_llminit.text import encode_items
from pyg_llminit.transforms import LLMInit

EDGE = ('user', 'rates', 'item')
PRODUCTS = {
    'skin': ['Hydrating Hyaluronic Acid Face Serum', 'Gentle Foaming Facial Cleanser',
             'Vitamin C Brightening Day Cream SPF 30', 'Retinol Night Repair Moisturizer',
             'Soothing Aloe Vera Gel Face Mask'],
    'hair': ['Argan Oil Repair Shampoo for Dry Hair', 'Keratin Smoothing Conditioner',
             'Heat Protectant Spray for Flat Irons', 'Volumizing Dry Shampoo',
             'Leave-In Coconut Hair Mask'],
    'makeup': ['Long Lasting Matte Liquid Lipstick', 'Waterproof Volumizing Mascara',
               'Full Coverage Liquid Foundation', 'Eyeshadow Palette 12 Nude Shades',
               'Precision Liquid Eyeliner Pen'],
    'fragrance': ['Eau de Parfum Rose and Jasmine', 'Fresh Citrus Eau de Toilette',
                  'Vanilla Sandalwood Body Mist', 'Lavender Scented Body Lotion',
                  'Ocean Breeze Cologne Spray'],
}


def write_demo(folder: str, num_users: int = 30, seed: int = 0) -> None:
    r"""A small shop: each user buys 4 products of a favourite kind and 2-3 of others."""
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    items = [(f'P{k:02d}', t) for k, t in enumerate(t for ts in PRODUCTS.values() for t in ts)]
    with open(os.path.join(folder, 'items.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([('item_id', 'title')] + items)
    ids = {title: item_id for item_id, title in items}
    rows = [('user_id', 'item_id', 'timestamp')]
    for u in range(num_users):
        kind = list(PRODUCTS)[u % len(PRODUCTS)]
        others = [t for k, ts in PRODUCTS.items() if k != kind for t in ts]
        bought = rng.sample(PRODUCTS[kind], 4) + rng.sample(others, rng.randint(2, 3))
        rng.shuffle(bought)
        start = 1_700_000_000 + rng.randint(0, 10**6)
        rows += [(f'user{u:02d}', ids[t], start + 3600 * n) for n, t in enumerate(bought)]
    with open(os.path.join(folder, 'interactions.csv'), 'w', newline='') as f:
        csv.writer(f).writerows(rows)


parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
source = parser.add_mutually_exclusive_group(required=True)
source.add_argument('--demo', metavar='FOLDER', help='write the demo data here and use it')
source.add_argument('--data', metavar='FOLDER', help='interactions.csv + items.csv')
parser.add_argument('--epochs', type=int, default=50)
parser.add_argument('--dim', type=int, default=32)
parser.add_argument('--lr', type=float, default=1e-2)
parser.add_argument('--strategy', default='variance', choices=['variance', 'uniform'])
parser.add_argument('--encoder', default='minilm')
parser.add_argument('--cache-dir', default=None, help='embedding cache folder')
parser.add_argument('--user', default=None, help='user id to recommend for (default: first)')
parser.add_argument('--seed', type=int, default=2020)
args = parser.parse_args()
torch.manual_seed(args.seed)
if args.demo:
    write_demo(args.demo)

data = load_local_graph(args.demo or args.data)
train_data, val_data, _ = LeaveOneOutSplit(order='time')(data)
num_users, num_items = data['user'].num_nodes, data['item'].num_nodes
print(f'{num_users} users, {num_items} items, {data[EDGE].num_edges} interactions')

E = encode_items(train_data, args.encoder, fields=('title', ), cache_dir=args.cache_dir)
train_data = LLMInit(E, dim=args.dim, strategy=args.strategy)(train_data)
model = LightGCN(num_users + num_items, args.dim, num_layers=2)
with torch.no_grad():  # users first, then items: the homogeneous numbering used below
    model.embedding.weight.copy_(torch.cat([train_data['user'].x, train_data['item'].x]))

user, item = train_data[EDGE].edge_index
pos = torch.stack([user, item + num_users])
edge_index = torch.cat([pos, pos.flip(0)], dim=1)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
for _ in range(args.epochs):  # one full batch of BPR triples per epoch
    neg = torch.stack([pos[0], torch.randint(num_users, num_users + num_items, user.shape)])
    edge_label_index = torch.cat([pos, neg], dim=1)
    optimizer.zero_grad()
    pos_rank, neg_rank = model(edge_index, edge_label_index).chunk(2)
    loss = model.recommendation_loss(pos_rank, neg_rank, node_id=edge_label_index.unique())
    loss.backward()
    optimizer.step()
print(f'trained {args.epochs} epochs, final BPR loss {loss.item():.4f}' if args.epochs else
      'no training (--epochs 0): LLMInit features only')

with torch.no_grad():
    emb = model.get_embedding(edge_index)
scores = embedding_scores(emb[:num_users], emb[num_users:])
exclude = [train_data[EDGE].edge_index]
val = RankingEvaluator(num_users, num_items, val_data[EDGE].edge_label_index, exclude,
                       k=(min(10, num_items), ), metrics=('recall', )).evaluate(scores)
print(' '.join(f'val {name} {value:.4f}' for name, value in val.items()))

ids, titles = data['user'].ids, data['item'].title
if args.user is not None and args.user not in ids:
    parser.error(f'unknown --user {args.user!r} (e.g. {ids[0]})')
u = ids.index(args.user) if args.user is not None else 0
seen = user == u
print(f'{ids[u]} bought: ' + '; '.join(titles[i] for i in item[seen].tolist()))
top = RankingEvaluator(num_users, num_items, torch.tensor([[u], [0]]), exclude,
                       k=(min(5, num_items), )).top_items(scores, torch.tensor([u]))[0]
print(f'top-5 for user {ids[u]}: ' + '; '.join(titles[i] for i in top.tolist()))
