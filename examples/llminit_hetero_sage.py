"""LLMInit features feeding a heterogeneous GraphSAGE (``SAGEConv`` + ``to_hetero``).

What it shows: the ``HeteroData`` that ``LLMInit`` returns (``user.x``, ``item.x``) goes
straight into ordinary heterogeneous PyG code. The script
1. loads Amazon Beauty (or ``--graph FOLDER`` with ``interactions.csv`` + ``items.csv``, or
   RecBole atomic files) and splits it leave-one-out per user;
2. encodes the item titles with MiniLM (``encode_items``, cached under
   ``$PYG_LLMINIT_HOME/embeddings``) and applies ``LLMInit(E, dim, strategy='variance')`` to
   the TRAINING graph;
3. starts a learnable embedding table per node type from those features (``--freeze`` keeps
   them fixed instead) and runs a 2-layer ``SAGEConv`` GNN made heterogeneous with
   ``to_hetero`` over the training edges (both directions);
4. trains link prediction on ``('user', 'rates', 'item')``: dot-product decoder, binary
   cross-entropy on positive training edges and as many uniformly drawn random items;
5. reports validation Recall@10 / NDCG@10 with ``RankingEvaluator`` (full ranking over all
   items, training items masked).

Run::

    python examples/llminit_hetero_sage.py                      # Beauty, 5 epochs
    python examples/llminit_hetero_sage.py --graph my_folder    # your own CSV folder
    python examples/llminit_hetero_sage.py --users 500 --epochs 1 --embedding random  # seconds

``--users N`` keeps users ``0..N-1`` with all their interactions and every item (a smaller
but honest problem). ``--embedding random`` is a TEST SHORTCUT: a seeded random ``E``
instead of a language model (no text knowledge); it only checks that the pipeline runs.
"""
import argparse

import torch
import torch.nn.functional as F
from torch_geometric.nn import SAGEConv, to_hetero

from pyg_llminit.datasets import AmazonBeauty, load_local_graph
from pyg_llminit.evaluation import RankingEvaluator
from pyg_llminit.models import embedding_scores
from pyg_llminit.transforms.split import LeaveOneOutSplit
from pyg_llminit.text import encode_items
from pyg_llminit.transforms import LLMInit

EDGE, REV = ('user', 'rates', 'item'), ('item', 'rated_by', 'user')

parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
parser.add_argument('--graph', default=None, help='local folder (default: Amazon Beauty)')
parser.add_argument('--epochs', type=int, default=5)
parser.add_argument('--dim', type=int, default=64)
parser.add_argument('--batch-size', type=int, default=4096)
parser.add_argument('--lr', type=float, default=5e-3)
parser.add_argument('--strategy', default='variance',
                    choices=['variance', 'uniform', 'random', 'pca'])
parser.add_argument('--freeze', action='store_true', help='keep the LLMInit features fixed')
parser.add_argument('--embedding', default='minilm',
                    help="text encoder (preset/folder/hub id), or 'random' (test shortcut)")
parser.add_argument('--cache-dir', default=None, help='embedding cache folder')
parser.add_argument('--users', type=int, default=None, help='keep only the first N users')
parser.add_argument('--seed', type=int, default=2020)
args = parser.parse_args()
torch.manual_seed(args.seed)
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

data = load_local_graph(args.graph) if args.graph else AmazonBeauty()[0]
if args.users is not None:  # users 0..N-1 with all their interactions; every item kept
    store, keep = data[EDGE], data[EDGE].edge_index[0] < args.users
    for key in ('edge_index', 'time', 'rating'):
        if key in store:
            store[key] = store[key][..., keep]
    data[REV].edge_index = store.edge_index.flip(0)
    data['user'].num_nodes = min(args.users, data['user'].num_nodes)
    data['user'].ids = data['user'].ids[:data['user'].num_nodes]
train_data, val_data, _ = LeaveOneOutSplit(order='time')(data)
num_users, num_items = data['user'].num_nodes, data['item'].num_nodes

if args.embedding == 'random':  # test shortcut: no language model involved
    E = torch.randn(num_items, 384, generator=torch.Generator().manual_seed(args.seed))
    E = F.normalize(E, dim=-1)
else:
    E = encode_items(train_data, args.embedding, fields=('title', ), cache_dir=args.cache_dir)
train_data = LLMInit(E, dim=args.dim, strategy=args.strategy, seed=args.seed)(train_data)
print(train_data)


class GNN(torch.nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = SAGEConv(channels, channels)
        self.conv2 = SAGEConv(channels, channels)

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


class Model(torch.nn.Module):
    def __init__(self, x_dict, metadata, channels: int, freeze: bool) -> None:
        super().__init__()
        self.emb = torch.nn.ModuleDict({  # one table per node type, started from LLMInit
            t: torch.nn.Embedding.from_pretrained(x, freeze=freeze) for t, x in x_dict.items()})
        self.gnn = to_hetero(GNN(channels), metadata, aggr='sum')

    def forward(self, edge_index_dict):
        return self.gnn({t: emb.weight for t, emb in self.emb.items()}, edge_index_dict)


x_dict = {t: train_data[t].x for t in ('user', 'item')}
edge_index_dict = {k: v.to(device) for k, v in train_data.edge_index_dict.items()}
model = Model(x_dict, train_data.metadata(), args.dim, args.freeze).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
pos_edges = train_data[EDGE].edge_index.to(device)
evaluator = RankingEvaluator(num_users, num_items, val_data[EDGE].edge_label_index,
                             exclude_index=[train_data[EDGE].edge_index], k=(10, ),
                             metrics=('recall', 'ndcg'))


def train() -> float:
    model.train()
    total_loss = total_examples = 0
    for index in torch.randperm(pos_edges.size(1), device=device).split(args.batch_size):
        user, item = pos_edges[:, index]
        neg_item = torch.randint(0, num_items, item.shape, device=device)
        optimizer.zero_grad()
        z = model(edge_index_dict)
        pos = (z['user'][user] * z['item'][item]).sum(-1)
        neg = (z['user'][user] * z['item'][neg_item]).sum(-1)
        logits = torch.cat([pos, neg])
        labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * logits.numel()
        total_examples += logits.numel()
    return total_loss / total_examples


@torch.no_grad()
def test() -> dict:
    model.eval()
    z = model(edge_index_dict)
    return evaluator.evaluate(embedding_scores(z['user'], z['item']), device)


print(f'{num_users:,} users, {num_items:,} items, {pos_edges.size(1):,} training edges')
metrics = test()  # epoch 0: untrained GNN over the LLMInit features
print(f'epoch 000 | val recall@10 {metrics["recall@10"]:.4f} ndcg@10 {metrics["ndcg@10"]:.4f}')
for epoch in range(1, args.epochs + 1):
    loss = train()
    metrics = test()
    print(f'epoch {epoch:03d} | loss {loss:.4f} | val recall@10 {metrics["recall@10"]:.4f} '
          f'ndcg@10 {metrics["ndcg@10"]:.4f}')
print(f'val recall@10 {metrics["recall@10"]:.4f} ndcg@10 {metrics["ndcg@10"]:.4f}')
