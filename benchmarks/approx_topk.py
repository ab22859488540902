"""Approximate top-k (faiss IVF-PQ through PyG's ApproxMIPSKNNIndex) against exact full
ranking, on LightGCN embeddings of Amazon Beauty.

Trains LightGCN for ``--epochs`` (default 20), then ranks every test user's items exactly
and approximately for several ``num_cells_to_visit`` values; reports the share of the exact
top-20 recovered, test Recall@10 / NDCG@10 from each list, and the seconds each took.
Writes ``benchmarks/results/approx_topk.json`` (or ``--out``) and prints a markdown table.

Usage::

    python benchmarks/approx_topk.py [--epochs 20] [--visits 1,4,16,64]
"""
import argparse
import platform
import time
from pathlib import Path

import torch

from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.evaluation.retrieval import approximate_top_items, top_k_overlap
from pyg_llminit.io import write_json
from pyg_llminit.models import LightGCN
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.allocator import retain_freed_memory
from pyg_llminit.transforms.split import LeaveOneOutSplit

RESULTS = Path(__file__).parent / 'results'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--visits', default='1,4,16,64')
    parser.add_argument('--out', default=str(RESULTS / 'approx_topk.json'))
    args = parser.parse_args()
    retain_freed_memory()  # as the CLI's train command (the Trainer used to call it)
    train, val, test = LeaveOneOutSplit()(AmazonBeauty()[0])
    torch.manual_seed(2020)
    model = LightGCN(train['user'].num_nodes, train['item'].num_nodes, 128, 2)
    trainer = Trainer(model, train, val, test, TrainConfig(epochs=args.epochs,
                                                           patience=args.epochs),
                      log=lambda s: None)
    trainer.fit()
    evaluator = trainer.test_evaluator
    with torch.no_grad():
        user_emb, item_emb = model(trainer.adj)
    users = evaluator.users
    start = time.perf_counter()
    exact = torch.cat([evaluator.top_items(lambda u: user_emb[u] @ item_emb.t(),
                                           users[i:i + 1024]) for i in range(0, len(users), 1024)])
    exact_s = time.perf_counter() - start
    metrics = evaluator.evaluate_top(lambda u: exact[torch.searchsorted(users, u)])
    rows = [{'method': 'exact', 'seconds': exact_s, 'overlap@20': 1.0, **metrics}]
    exclude = torch.cat([evaluator.exclude.gather(users[i:i + 4096]) +
                         torch.tensor([[i], [0]]) for i in range(0, len(users), 4096)], 1)
    for visits in (int(v) for v in args.visits.split(',')):
        start = time.perf_counter()
        approx = approximate_top_items(user_emb[users], item_emb, 20, exclude,
                                       num_cells_to_visit=visits, sub_vectors=16)
        seconds = time.perf_counter() - start
        metrics = evaluator.evaluate_top(lambda u, top=approx: top[torch.searchsorted(users, u)])
        rows.append({'method': f'IVF-PQ, {visits} of {int(4 * item_emb.size(0) ** 0.5)} cells',
                     'seconds': seconds, 'overlap@20': top_k_overlap(approx, exact), **metrics})
        print(rows[-1]['method'], round(seconds, 2), round(rows[-1]['overlap@20'], 3), flush=True)
    machine = (f'{platform.processor() or platform.machine()}, {torch.get_num_threads()} '
               f'threads, torch {torch.__version__}')
    lines = [f'Machine: {machine}. LightGCN after {args.epochs} epochs on Beauty; '
             f'{len(users):,} test users x {item_emb.size(0):,} items; 16 PQ sub-vectors.', '',
             '| ranking | seconds | share of exact top-20 | test Recall@10 | test NDCG@10 |',
             '| --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f'| {r["method"]} | {r["seconds"]:.2f} | {r["overlap@20"]:.3f} | '
                     f'{r["recall@10"]:.4f} | {r["ndcg@10"]:.4f} |')
    print('\n'.join(lines))
    write_json(args.out, {'machine': machine, 'rows': rows, 'markdown': '\n'.join(lines)})


if __name__ == '__main__':
    main()
