"""Times one LightGCN training epoch and one full evaluation on Amazon Beauty: ours against a
loop in the style of PyG's ``examples/lightgcn.py`` on the same data, in the same run.

Both sides: Beauty, leave-one-out in time order, d = 128, 2 layers, Adam lr 1e-3, batch 2048,
one negative per positive, the same number of threads.

Every side runs with glibc keeping freed buffers (as the CLI's ``train`` does).

* PyG-example style: homogeneous ``edge_index`` of both directions, ``model(edge_index,
  edge_label_index)`` (``LGConv`` re-normalises on every call), ``recommendation_loss`` over
  the batch's unique nodes, dense top-K scoring with a dense ground-truth mask per chunk.
* Ours: :class:`pyg_llminit.models.LightGCN` over the adjacency normalised once, BPR with
  negatives outside the user's training items, the :class:`~pyg_llminit.training.Trainer`'s
  own step (fused Adam) with glibc keeping freed buffers as in the CLI, and its test
  :class:`~pyg_llminit.evaluation.RankingEvaluator` (all five metrics at K = 10, 20).
* With ``--recbole-python PATH``: RecBole's own LightGCN (``recbole==1.2.1`` in that Python's
  environment, not this package's) in a subprocess, :file:`recbole_epoch.py`, on the same
  interactions written as a RecBole ``.inter`` file, in the same setting (reg_weight 1e-5,
  uniform negatives, LS valid_and_test in time order, full ranking, the same five metrics).

Usage::

    python benchmarks/lightgcn_epoch.py [--epochs 2] [--threads 2] \
        [--recbole-python /path/to/recbole-venv/bin/python] [--skip-reference]

Prints a markdown table of seconds and ratios (other / ours) and writes them to
``benchmarks/results/lightgcn_epoch.json`` (or ``--out``).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch_geometric.nn import LightGCN as PyGLightGCN
from torch_geometric.utils import degree

from pyg_llminit.datasets import AmazonBeauty
from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.io import write_json
from pyg_llminit.models import LightGCN
from pyg_llminit.training import TrainConfig, Trainer
from pyg_llminit.training.allocator import (MMAP_THRESHOLD, TRIM_THRESHOLD,
                                              retain_freed_memory)
from pyg_llminit.transforms.split import LeaveOneOutSplit, label_index, train_index

BATCH, DIM, LAYERS, LR = 2048, 128, 2, 1e-3


def reference_epoch(model, opt, edge_index, train_label_index, num_users, num_items):
    loader = torch.utils.data.DataLoader(range(train_label_index.size(1)), shuffle=True,
                                         batch_size=BATCH)
    for index in loader:
        pos = train_label_index[:, index]
        neg = torch.stack([pos[0], torch.randint(num_users, num_users + num_items,
                                                 (index.numel(),))])
        eli = torch.cat([pos, neg], dim=1)
        opt.zero_grad()
        pos_rank, neg_rank = model(edge_index, eli).chunk(2)
        loss = model.recommendation_loss(pos_rank, neg_rank, node_id=eli.unique())
        loss.backward()
        opt.step()


@torch.no_grad()
def reference_eval(model, edge_index, train_label_index, test_index, num_users, k=10):
    emb = model.get_embedding(edge_index)
    user_emb, item_emb = emb[:num_users], emb[num_users:]
    recall = total = 0
    for start in range(0, num_users, BATCH):
        end = start + BATCH
        logits = user_emb[start:end] @ item_emb.t()
        mask = (train_label_index[0] >= start) & (train_label_index[0] < end)
        logits[train_label_index[0, mask] - start,
               train_label_index[1, mask] - num_users] = float('-inf')
        truth = torch.zeros_like(logits, dtype=torch.bool)
        mask = (test_index[0] >= start) & (test_index[0] < end)
        truth[test_index[0, mask] - start, test_index[1, mask]] = True
        count = degree(test_index[0, mask] - start, num_nodes=logits.size(0))
        isin = truth.gather(1, logits.topk(k, dim=-1).indices)
        recall += float((isin.sum(-1) / count.clamp(1e-6)).sum())
        total += int((count > 0).sum())
    return recall / total


@torch.no_grad()
def test_metrics(trainer: Trainer):
    r"""The full test evaluation alone (:meth:`Trainer.test` adds most-popular's and the
    per-group metrics)."""
    trainer.model.eval()
    return trainer.test_evaluator.evaluate(trainer.model.score_fn(trainer.adj),
                                           device=trainer.device)


def write_inter(data, path) -> None:
    r"""The graph's interactions as a RecBole atomic ``.inter`` file (tab-separated, with a
    ``field:type`` header; rating 1 where the graph has none). Ids that RecBole's reader
    (pandas) would split, quote or read as missing are refused."""
    store = data[EDGE_TYPE]
    users, items = data['user'].ids, data['item'].ids
    if 'time' not in store:
        sys.exit('error: the graph has no timestamps for a time-order split')
    unsafe = [i for i in (*users, *items) if not i or i != i.strip() or '\t' in i or '\n' in i
              or i.startswith('"') or i.upper() in ('NA', 'NAN', 'NULL', 'NONE', 'N/A')]
    if unsafe:
        sys.exit(f'error: ids RecBole would misread, e.g. {unsafe[0]!r}')
    rating = store.rating.tolist() if 'rating' in store else [1.0] * store.num_edges
    with open(path, 'w', encoding='utf-8') as f:
        f.write('user_id:token\titem_id:token\trating:float\ttimestamp:float\n')
        for (u, i), r, t in zip(store.edge_index.t().tolist(), rating, store.time.tolist()):
            f.write(f'{users[u]}\t{items[i]}\t{r:g}\t{t}\n')


def run_recbole(python, data, threads, repeats) -> dict:
    r""":file:`recbole_epoch.py` run by :obj:`python` on :obj:`data`; its JSON."""
    with tempfile.TemporaryDirectory(prefix='recbole-beauty-') as tmp:
        os.mkdir(os.path.join(tmp, 'beauty'))
        write_inter(data, os.path.join(tmp, 'beauty', 'beauty.inter'))
        out = os.path.join(tmp, 'recbole.json')
        # glibc keeps freed buffers as in our process (retain_freed_memory), so the
        # allocator setting is not part of the measured difference
        env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                   MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD),
                   MALLOC_TRIM_THRESHOLD_=str(TRIM_THRESHOLD))
        try:
            rc = subprocess.run([python, str(Path(__file__).with_name('recbole_epoch.py')),
                                 '--data', tmp, '--threads', str(threads),
                                 '--repeats', str(repeats), '--out', out], env=env,
                                timeout=3600).returncode
        except OSError as e:
            sys.exit(f'error: cannot run --recbole-python {python}: {e.strerror}')
        except subprocess.TimeoutExpired:
            sys.exit('error: the RecBole worker ran for over an hour')
        if rc != 0 or not os.path.isfile(out):
            sys.exit(f'error: the RecBole worker ({python}) failed (exit code {rc})')
        with open(out) as f:
            return json.load(f)


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), sum(times) / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=2, help='timed repeats of each step')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--out', default=str(Path(__file__).parent / 'results' /
                                              'lightgcn_epoch.json'),
                        help='the timings as JSON (written atomically)')
    parser.add_argument('--recbole-python', metavar='PATH',
                        help='a Python with recbole==1.2.1: also time RecBole\'s LightGCN')
    parser.add_argument('--skip-reference', action='store_true',
                        help='leave out the PyG-example-style loop (~50 s an epoch)')
    args = parser.parse_args()
    # every side keeps freed buffers, as the CLI's train command does: the reference loop
    # here, RecBole through its worker's MALLOC_* variables (until 2026-12-04 only ours did)
    retain_freed_memory()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    data = AmazonBeauty()[0]
    train, val, test = LeaveOneOutSplit()(data)
    nu, ni = data['user'].num_nodes, data['item'].num_nodes
    train_ui, test_ui = train_index(train), label_index(test)
    ours_stats = {'users': nu, 'items': ni, 'interactions': data[EDGE_TYPE].num_edges,
                  'train': train_ui.size(1), 'valid': label_index(val).size(1),
                  'test': test_ui.size(1)}

    # Reference: homogeneous graph, items offset by num_users, both directions.
    label = train_ui.clone()
    label[1] += nu
    edge_index = torch.cat([label, label.flip(0)], 1)
    ref_train = ref_eval = recbole = None
    if not args.skip_reference:
        ref = PyGLightGCN(nu + ni, DIM, LAYERS)
        ref_opt = torch.optim.Adam(ref.parameters(), lr=LR)
        ref_train = timed(lambda: reference_epoch(ref, ref_opt, edge_index, label, nu, ni),
                          args.epochs)
        ref_eval = timed(lambda: reference_eval(ref, edge_index, label, test_ui, nu),
                         args.epochs)
    if args.recbole_python:
        recbole = run_recbole(args.recbole_python, data, args.threads, args.epochs)
        if recbole['dataset'] != ours_stats:
            sys.exit(f"error: RecBole sees {recbole['dataset']}, we see {ours_stats}")

    ours = LightGCN(nu, ni, DIM, LAYERS)
    trainer = Trainer(ours, train, val, test, TrainConfig(batch_size=BATCH, lr=LR,
                                                          device='cpu'), log=lambda s: None)
    our_train = timed(trainer.train_epoch, args.epochs)
    our_eval = timed(lambda: test_metrics(trainer), args.epochs)

    print(f'machine: {platform.processor() or platform.machine()}, '
          f'{torch.get_num_threads()} threads, torch {torch.__version__}, '
          f'{platform.python_implementation()} {platform.python_version()}')
    print(f'Beauty LOO: {nu:,} users, {ni:,} items, {train_ui.size(1):,} training edges; '
          f'd={DIM}, layers={LAYERS}, batch={BATCH}; best (mean) of {args.epochs} repeats')
    if recbole:
        print(f"RecBole {recbole['versions']['recbole']} sees the same: {recbole['dataset']}")
    rb = recbole['seconds'] if recbole else {}
    rows = (('train epoch', ref_train, rb.get('train_epoch'), our_train),
            ('full evaluation', ref_eval, rb.get('full_evaluation'), our_eval))
    cell = lambda t: '-' if t is None else f'{t[0]:.2f} ({t[1]:.2f})'  # noqa: E731
    ratio = lambda t, ours: None if t is None else t[0] / ours[0]  # noqa: E731
    print('\n| step | PyG-example style (s) | RecBole LightGCN (s) | pyg-llminit (s) '
          '| PyG-example / ours | RecBole / ours |')
    print('| --- | --- | --- | --- | --- | --- |')
    for name, ref_t, rb_t, our_t in rows:
        ratios = [ratio(t, our_t) for t in (ref_t, rb_t)]
        print(f'| {name} | {cell(ref_t)} | {cell(rb_t)} | {cell(our_t)} | ' + ' | '.join(
            '-' if r is None else f'{r:.1f}x' for r in ratios) + ' |')
    print('\nThe reference evaluation computes Recall@10 only; ours and RecBole\'s compute '
          'Recall, NDCG, Hit, Precision and MRR at 10 and 20.')
    write_json(args.out, {
        'date': time.strftime('%Y-%m-%d'), 'machine': platform.processor() or
        platform.machine(), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
        'setting': {'graph': 'Beauty LOO (time order)', **ours_stats, 'train_edges':
                    train_ui.size(1), 'dim': DIM, 'layers': LAYERS, 'batch': BATCH, 'lr': LR,
                    'repeats': args.epochs},
        'seconds': {'best_of_repeats_then_mean': 'each value is [best, mean]',
                    'pyg_example_train_epoch': ref_train and list(ref_train),
                    'recbole_train_epoch': rb.get('train_epoch'),
                    'pyg_llminit_train_epoch': list(our_train),
                    'pyg_example_full_evaluation': ref_eval and list(ref_eval),
                    'recbole_full_evaluation': rb.get('full_evaluation'),
                    'pyg_llminit_full_evaluation': list(our_eval)},
        'speedup_train_epoch': ratio(ref_train, our_train),
        'speedup_full_evaluation': ratio(ref_eval, our_eval),
        'recbole_over_ours_train_epoch': ratio(rb.get('train_epoch'), our_train),
        'recbole_over_ours_full_evaluation': ratio(rb.get('full_evaluation'), our_eval),
        'recbole': recbole and {k: recbole[k] for k in ('dataset', 'versions',
                                                       'last_evaluation_metrics')}})
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
