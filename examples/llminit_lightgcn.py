"""LLMInit + PyG's own ``torch_geometric.nn.LightGCN`` on Amazon Beauty, in plain PyG code.

What it shows (no pyg-llminit CLI, no Trainer): LLMInit (arXiv 2503.01814) is an ordinary
PyG transform. The script
1. loads Amazon Beauty (``AmazonBeauty``) and splits it leave-one-out per user
   (``LeaveOneOutSplit``: message passing over training edges only);
2. encodes the item titles with MiniLM (``encode_items``; cached under
   ``$PYG_LLMINIT_HOME/embeddings``, about 45 s the first time on a 2-core CPU);
3. applies ``LLMInit(E, dim, strategy='variance')`` to the TRAINING graph, which sets
   ``user.x`` and ``item.x``;
4. copies ``torch.cat([user.x, item.x])`` into PyG LightGCN's ``embedding.weight``
   (homogeneous numbering: users ``0..U-1``, then items ``U..U+I-1``);
5. trains with BPR, as in PyG's ``examples/lightgcn.py`` (``model.recommendation_loss``);
6. reports validation Recall@10 / NDCG@10 with ``RankingEvaluator`` (full ranking over all
   items, training items masked).

Run::

    python examples/llminit_lightgcn.py                      # full Beauty, 10 epochs
    python examples/llminit_lightgcn.py --strategy none      # same loop from PyG's own init
    python examples/llminit_lightgcn.py --users 500 --epochs 1 --embedding random  # seconds

A PyG-example-style epoch takes about 40 s on a 2-core CPU at d=128 (benchmarks/RESULTS.md).
``--users N`` keeps users ``0..N-1`` with all their interactions and every item (a smaller
but honest problem; its metrics are not comparable with the full graph's).
``--embedding random`` is a TEST SHORTCUT: a seeded random ``E`` instead of a language
model, so no text knowledge is used -- it only checks that the pipeline runs quickly.
"""
import argparse

import torch
from torch_geometric.nn import LightGCN

from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.evaluation import RankingEvaluator
from pyg_llminit.models import embedding_scores
from pyg_llminit.transforms.split import LeaveOneOutSplit
from pyg_llminit.text import encode_items
from pyg_llminit.transforms import LLMInit

EDGE, REV = ('user', 'rates', 'item'), ('item', 'rated_by', 'user')

parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
parser.add_argument('--epochs', type=int, default=10)
parser.add_argument('--dim', type=int, default=64)
parser.add_argument('--layers', type=int, default=2)
parser.add_argument('--batch-size', type=int, default=2048)
parser.add_argument('--lr', type=float, default=1e-3)
parser.add_argument('--strategy', default='variance',
                    choices=['variance', 'uniform', 'random', 'pca', 'none'])
parser.add_argument('--embedding', default='minilm',
                    help="text encoder (preset/folder/hub id), or 'random' (test shortcut)")
parser.add_argument('--cache-dir', default=None, help='embedding cache folder')
parser.add_argument('--users', type=int, default=None, help='keep only the first N users')
parser.add_argument('--seed', type=int, default=2020)
args = parser.parse_args()
torch.manual_seed(args.seed)
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

data = AmazonBeauty()[0]
if args.users is not None:  # users 0..N-1 with all their interactions; every item kept
    store, keep = data[EDGE], data[EDGE].edge_index[0] < args.users
    store.edge_index, store.time = store.edge_index[:, keep], store.time[keep]
    data[REV].edge_index = store.edge_index.flip(0)
    data['user'].num_nodes = min(args.users, data['user'].num_nodes)
    data['user'].ids = data['user'].ids[:data['user'].num_nodes]
train_data, val_data, _ = LeaveOneOutSplit(order='time')(data)
num_users, num_items = data['user'].num_nodes, data['item'].num_nodes

model = LightGCN(num_users + num_items, args.dim, args.layers)
if args.strategy != 'none':
    if args.embedding == 'random':  # test shortcut: no language model involved
        E = torch.randn(num_items, 384, generator=torch.Generator().manual_seed(args.seed))
        E = torch.nn.functional.normalize(E, dim=-1)
    else:
        E = encode_items(train_data, args.embedding, fields=('title', ),
                         cache_dir=args.cache_dir)
    train_data = LLMInit(E, dim=args.dim, strategy=args.strategy, seed=args.seed)(train_data)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.cat([train_data['user'].x, train_data['item'].x]))
    print(f'LLMInit: E {tuple(E.shape)} -> x std {float(train_data["item"].x.std()):.4f}')
model = model.to(device)

# Homogeneous graph: items shifted by num_users, both edge directions (training edges only).
user, item = train_data[EDGE].edge_index
train_edge_label_index = torch.stack([user, item + num_users]).to(device)
edge_index = torch.cat([train_edge_label_index, train_edge_label_index.flip(0)], dim=1)

optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
loader = torch.utils.data.DataLoader(range(train_edge_label_index.size(1)), shuffle=True,
                                     batch_size=args.batch_size)
evaluator = RankingEvaluator(num_users, num_items, val_data[EDGE].edge_label_index,
                             exclude_index=[train_data[EDGE].edge_index], k=(10, ),
                             metrics=('recall', 'ndcg'))


def train() -> float:
    model.train()
    total_loss = total_examples = 0
    for index in loader:
        pos_edge_label_index = train_edge_label_index[:, index]
        neg_edge_label_index = torch.stack([
            pos_edge_label_index[0],
            torch.randint(num_users, num_users + num_items, (index.numel(), ), device=device)
        ], dim=0)
        edge_label_index = torch.cat([pos_edge_label_index, neg_edge_label_index], dim=1)
        optimizer.zero_grad()
        pos_rank, neg_rank = model(edge_index, edge_label_index).chunk(2)
        loss = model.recommendation_loss(pos_rank, neg_rank,
                                         node_id=edge_label_index.unique())
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * pos_rank.numel()
        total_examples += pos_rank.numel()
    return total_loss / total_examples


@torch.no_grad()
def test() -> dict:
    model.eval()
    emb = model.get_embedding(edge_index)
    return evaluator.evaluate(embedding_scores(emb[:num_users], emb[num_users:]), device)


print(f'{num_users:,} users, {num_items:,} items, {user.numel():,} training edges, '
      f'{evaluator.users.numel():,} validation users')
metrics = test()  # epoch 0: the initial embeddings alone
print(f'epoch 000 | val recall@10 {metrics["recall@10"]:.4f} ndcg@10 {metrics["ndcg@10"]:.4f}')
for epoch in range(1, args.epochs + 1):
    loss = train()
    metrics = test()
    print(f'epoch {epoch:03d} | loss {loss:.4f} | val recall@10 {metrics["recall@10"]:.4f} '
          f'ndcg@10 {metrics["ndcg@10"]:.4f}')
print(f'val recall@10 {metrics["recall@10"]:.4f} ndcg@10 {metrics["ndcg@10"]:.4f}')
