"""Times RecBole's own LightGCN: training epochs and full test evaluations (a worker of
``lightgcn_epoch.py --recbole-python``; run with a Python that has ``recbole==1.2.1``, not
this package's environment).

Setting, as ours: d = 128, 2 layers, reg_weight 1e-5, Adam lr 1e-3, batch 2048, one uniform
negative per positive, leave-one-out in time order grouped by user, full ranking, Recall,
MRR, NDCG, Hit and Precision at 10 and 20, no filtering (the data is already 5-core).

An environment for it, outside this package's (RecBole 1.2.1 needs numpy < 2 for
``np.float_`` and a scipy that still has ``dok_matrix._update``)::

    python3 -m venv /work/recbole-venv
    /work/recbole-venv/bin/pip install torch==2.13.0 recbole==1.2.1 numpy==1.26.4 \
        pandas==2.2.3 scipy==1.11.4

Usage::

    RECBOLE_PYTHON benchmarks/recbole_epoch.py --data DIR --threads 2 --repeats 2 --out t.json

``DIR/beauty/beauty.inter``: RecBole atomic file (``user_id:token item_id:token
rating:float timestamp:float``). Writes the dataset statistics as RecBole sees them, seconds
per epoch and per evaluation as ``[best, mean]`` of the repeats, versions and the last
evaluation's metrics (near random after a few epochs: recorded, not compared).
"""
import argparse
import json
import logging
import os
import sys
import tempfile
import time
import warnings


def num_items(inter_file: str) -> int:
    with open(inter_file, encoding='utf-8') as f:
        next(f)
        return len({line.split('\t', 2)[1] for line in f})


def settings(data_dir: str, checkpoint_dir: str, eval_batch_size: int, seed: int = 2020
             ) -> dict:
    return {
        'data_path': data_dir, 'checkpoint_dir': checkpoint_dir,
        'use_gpu': False, 'seed': seed, 'reproducibility': False, 'show_progress': False,
        'state': 'WARNING', 'worker': 0,
        'load_col': {'inter': ['user_id', 'item_id', 'rating', 'timestamp']},
        'USER_ID_FIELD': 'user_id', 'ITEM_ID_FIELD': 'item_id', 'TIME_FIELD': 'timestamp',
        # no filtering: every user and item is kept, duplicates are already gone
        'filter_inter_by_user_or_item': False, 'rm_dup_inter': None, 'val_interval': None,
        'user_inter_num_interval': '[0,inf)', 'item_inter_num_interval': '[0,inf)',
        'embedding_size': 128, 'n_layers': 2, 'reg_weight': 1e-5,
        'learner': 'adam', 'learning_rate': 1e-3, 'weight_decay': 0.0,
        'train_batch_size': 2048, 'eval_batch_size': eval_batch_size,
        'train_neg_sample_args': {'distribution': 'uniform', 'sample_num': 1},
        'eval_args': {'split': {'LS': 'valid_and_test'}, 'order': 'TO', 'group_by': 'user',
                      'mode': 'full'},
        'metrics': ['Recall', 'MRR', 'NDCG', 'Hit', 'Precision'], 'topk': [10, 20],
        'valid_metric': 'MRR@10',
    }


def timed(fn, repeats):
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        out = fn(i)
        times.append(time.perf_counter() - t)
    return [min(times), sum(times) / len(times)], out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', required=True, help='folder holding beauty/beauty.inter')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--out', required=True, help='the JSON to write')
    parser.add_argument('--eval-users', type=int, default=1024,
                        help='users scored per evaluation batch, as our evaluator does')
    args = parser.parse_args()
    data_dir, out = os.path.abspath(args.data), os.path.abspath(args.out)
    # RecBole's full-ranking loader scores eval_batch_size // num_items users per batch
    # (at least one): its default, 4096, scores Beauty's users one at a time
    # (num_items counting its [PAD] item)
    eval_batch_size = args.eval_users * (1 + num_items(os.path.join(data_dir, 'beauty',
                                                                    'beauty.inter')))

    import numpy as np
    import torch
    import recbole
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.general_recommender import LightGCN
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    torch.set_num_threads(args.threads)
    logging.getLogger().setLevel(logging.WARNING)
    # pandas 2.2 warns about RecBole's fillna(inplace=True) on columns (no NaN here anyway)
    warnings.filterwarnings('ignore', category=FutureWarning)
    sys.argv = sys.argv[:1]  # RecBole's Config reads --key=value options from sys.argv
    with tempfile.TemporaryDirectory(prefix='recbole-bench-') as tmp:
        os.chdir(tmp)  # RecBole's Trainer writes ./log_tensorboard
        config = Config(model='LightGCN', dataset='beauty',
                        config_dict=settings(data_dir, os.path.join(tmp, 'saved'),
                                             eval_batch_size))
        init_seed(config['seed'], config['reproducibility'])
        torch.set_num_threads(args.threads)  # init_seed leaves it, but be explicit
        dataset = create_dataset(config)
        train_data, valid_data, test_data = data_preparation(config, dataset)
        init_seed(config['seed'], config['reproducibility'])
        model = LightGCN(config, train_data._dataset).to(config['device'])
        trainer = Trainer(config, model)

        epoch, _ = timed(lambda i: trainer._train_epoch(train_data, i), args.repeats)

        def evaluate(_):
            # The propagated embeddings are cached until the next training batch clears
            # them; as after every epoch of RecBole's fit, each evaluation propagates anew.
            model.restore_user_e = model.restore_item_e = None
            return trainer.evaluate(test_data, load_best_model=False)
        evaluation, metrics = timed(evaluate, args.repeats)

    result = {
        'dataset': {'users': dataset.user_num - 1, 'items': dataset.item_num - 1,  # [PAD]
                    'interactions': dataset.inter_num,
                    'train': train_data._dataset.inter_num,
                    'valid': valid_data._dataset.inter_num,
                    'test': test_data._dataset.inter_num},
        'threads': torch.get_num_threads(), 'repeats': args.repeats,
        'eval_batch_size': eval_batch_size, 'eval_users_per_batch': args.eval_users,
        'seconds': {'train_epoch': epoch, 'full_evaluation': evaluation,
                    'each_value': '[best, mean] of the repeats'},
        'versions': {'recbole': recbole.__version__, 'torch': torch.__version__,
                     'numpy': np.__version__},
        'last_evaluation_metrics': {k: float(v) for k, v in metrics.items()},
    }
    with open(out, 'w') as f:
        json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
