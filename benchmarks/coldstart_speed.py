"""New items end to end on Beauty: how long fitting the text-to-embedding map and ranking
brand-new items for every user takes, against plain serving of the trained items.

A run trained on ``--split cold-items:0.1`` (``--run RUN``, or a short one trained here:
the timings do not depend on how well it trained) provides the trained model; its held-out
test items, under new ids (``new-<id>``) and with their real titles, are the new-items file.
Then, in one process after a warm-up:

- ``encode``: the warm items' texts (the encoder's cache, as on every later call) and the
  new items' texts, with the run's encoder;
- ``fit ridge`` / ``fit mlp``: :func:`~pyg_llminit.coldstart.maps.fit_on_warm_items`;
- ``rank``: every user's top-10 among the mapped new items, and the text-similarity
  reference ranking for the same users;
- ``effective rank``: of the trained user table ``[U, d]``;

and, as separate processes, the whole CLI command ``recommend RUN --all-users
--new-items FILE`` against ``recommend RUN --all-users`` (the same run's trained items):
both load the run, so their difference is what new items add, with every text embedding
in the encoder's cache (the new items' uncached encoding is the ``encode new items``
row).

Usage::

    python benchmarks/coldstart_speed.py [--run RUN] [--epochs 3] \
        [--out results/coldstart_speed.json]
"""
import argparse
import csv
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from pyg_llminit.coldstart.maps import fit_on_warm_items
from pyg_llminit.experiment.new_items import new_item_scorer, rank_new_items, read_new_items
from pyg_llminit.coldstart.protocol import user_text_profiles
from pyg_llminit.evaluation.collapse import effective_rank
from pyg_llminit.experiment import ExperimentConfig, load_run, run_experiment
from pyg_llminit.text import encode_items
from pyg_llminit.transforms.split import train_index


def timed(fn, repeat: int = 3):
    r"""Best wall seconds of :obj:`repeat` calls and the last result."""
    best, result = float('inf'), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def train_short_run(folder: Path, epochs: int) -> Path:
    config = ExperimentConfig(graph='amazon', split='cold-items:0.1', init='variance')
    config = dataclasses.replace(config, train=dataclasses.replace(
        config.train, epochs=epochs, warmup=epochs))
    run_experiment(config, out=folder, log=lambda line: None)
    return folder


def write_new_items(run, path: Path) -> int:
    r"""The run's held-out test items under new ids, with their titles, as a CSV."""
    items, titles = run.data['item'].ids, run.data['item'].title
    with path.open('w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['item_id', 'title'])
        for i in run.test.cold_test_items.tolist():
            writer.writerow([f'new-{items[i]}', titles[i]])
    return run.test.cold_test_items.numel()


def rank_all(users, items, k=10, batch=4096):
    return [rank_new_items(users, items, torch.arange(s, min(s + batch, users.size(0))), k)
            for s in range(0, users.size(0), batch)]


def cli_seconds(args) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, '-m', 'pyg_llminit', 'recommend', *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--run', default=None, help='a finished cold-items run folder')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--out', default=str(Path(__file__).parent / 'results' /
                                             'coldstart_speed.json'))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_dir = Path(args.run) if args.run else train_short_run(tmp / 'run', args.epochs)
        run = load_run(run_dir)
        new_file = tmp / 'new.csv'
        num_new = write_new_items(run, new_file)
        new = read_new_items(str(new_file))
        config = run.config
        encode = dict(encoder=config.encoder, fields=config.text_fields,
                      template=config.text_template, progress=False)
        seconds = {}
        seconds['encode warm items (cached)'], text = timed(
            lambda: encode_items(run.train, **encode))
        seconds['encode new items (uncached, loads the model)'], new_text = timed(
            lambda: encode_items(new, cache_dir=tmp / 'cache', **encode), 1)
        encode_items(new, **encode)  # into the default cache, as a first CLI call would
        with torch.no_grad():
            users, items = (t.float() for t in run.model(run.adj))
        index = train_index(run.train)
        seconds['fit ridge'], ridge = timed(
            lambda: fit_on_warm_items('ridge', text, items, index, config.train.seed))
        seconds['fit mlp'], _ = timed(
            lambda: fit_on_warm_items('mlp', text, items, index, config.train.seed), 1)
        mapped = ridge(new_text)
        seconds['rank all users (map)'], _ = timed(lambda: rank_all(users, mapped))
        seconds['rank all users (text similarity)'], _ = timed(lambda: rank_all(
            user_text_profiles(text, index, users.size(0)),
            torch.nn.functional.normalize(new_text, dim=1)))
        seconds['effective rank of the user table'], _ = timed(lambda: effective_rank(users))
        seconds['new_item_scorer (encode + fit + tables)'], _ = timed(
            lambda: new_item_scorer(run, new), 1)
        out_json = tmp / 'recs.json'
        base = [str(run_dir), '--all-users', '-k', '10', '--out', str(out_json)]
        seconds['CLI recommend --all-users'] = cli_seconds(base)
        seconds['CLI recommend --all-users --new-items'] = cli_seconds(
            base + ['--new-items', str(new_file)])

    fit_and_rank = seconds['fit ridge'] + seconds['rank all users (map)']
    result = {
        'graph': 'amazon (Beauty)', 'users': users.size(0), 'warm items':
            int((torch.bincount(index[1], minlength=items.size(0)) > 0).sum()),
        'new items': num_new, 'd': items.size(1), 'text width': text.size(1),
        'encoder': config.encoder, 'run': str(run_dir) if args.run else
        f'trained here: cold-items:0.1, variance, {args.epochs} epochs',
        'seconds': {k: round(v, 3) for k, v in seconds.items()},
        'fit ridge + rank all users (s)': round(fit_and_rank, 3),
        'CLI: new items add (s)': round(seconds['CLI recommend --all-users --new-items'] -
                                        seconds['CLI recommend --all-users'], 2),
        'machine': f'{platform.machine()} CPU, {os.cpu_count()} cores, torch '
                   f'{torch.__version__}, {torch.get_num_threads()} threads',
        'date': time.strftime('%Y-%m-%d'),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')
    print(f'{result["users"]} users, {result["warm items"]} warm items, {num_new} new items, '
          f'd {result["d"]}, text width {result["text width"]}\n')
    print('| step | seconds |\n| --- | --- |')
    for step, value in seconds.items():
        print(f'| {step} | {value:.3f} |')
    print(f'\nfit ridge + rank every user: {fit_and_rank:.2f} s; {result["machine"]}')


if __name__ == '__main__':
    main()
