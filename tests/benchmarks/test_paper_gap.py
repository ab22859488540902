"""``benchmarks/paper_gap.py``: from the authors' protocol to ours, one change per step."""
import dataclasses
import json

import pytest

from pyg_llminit.experiment import ExperimentConfig, RunFolder
from pyg_llminit.training import TrainConfig


def test_each_step_adds_exactly_its_change(load_benchmark):
    gap = load_benchmark('paper_gap')
    configs = list(gap.step_configs('variance', 2021).items())
    first = configs[0][1]
    assert (first.order, first.train.batch_size, first.train.negatives,
            first.train.mask_seen, first.train.stopping) == ('random', 256, 'positive',
                                                            False, 'recbole')
    assert (first.init, first.train.seed, first.split_seed) == ('variance', 2021, 2020)
    for (_, before), (name, after), (step, _, change) in zip(configs, configs[1:],
                                                              gap.STEPS[1:]):
        assert name == step
        differ = {k: v for k, v in dataclasses.asdict(after.train).items()
                  if getattr(before.train, k) != v}
        assert differ == change and dataclasses.replace(after, train=before.train) == before
    last = configs[-1][1].train
    assert (last.batch_size, last.negatives, last.mask_seen) == (2048, 'seen', True)


def test_every_step_is_trained_and_scored_both_ways(load_benchmark, make_csv_graph,
                                                    tmp_path):
    gap = load_benchmark('paper_gap')
    graph = make_csv_graph(tmp_path / 'graph')
    base = ExperimentConfig(graph=str(graph), embedding_dim=8, train=TrainConfig(
        epochs=3, warmup=1, patience=2, device='cpu'))
    out, root = tmp_path / 'out', str(tmp_path / 'cache')
    lines = []
    gap.main(['--out', str(out), '--root', root], base=base, log=lines.append)
    runs = json.loads((out / 'paper_gap.json').read_text())['runs']
    assert list(runs) == [f'{step}-none-seed2020' for step, _, _ in gap.STEPS]
    for name, record in runs.items():
        own = json.loads((out / 'runs' / name / RunFolder.RESULTS).read_text())['test']
        evaluated = 'all items' if record['step'] == 'paper' else 'masked'
        for metric in ('recall@10', 'ndcg@10'):  # the run's own ranking, again
            assert record[evaluated][metric] == pytest.approx(own[metric], abs=1e-6)
            # ranking seen items too can only push a held-out item down
            assert record['all items'][metric] <= record['masked'][metric] + 1e-9
    text = (out / 'paper_gap.md').read_text()
    assert text == lines[-1] and '| batch-2048 | none | 2020 | + batch 2048' in text
    # without the weights (as committed) the report keeps the scores it made
    for best in out.glob(f'runs/*/{RunFolder.BEST}'):
        best.unlink()
    gap.main(['--out', str(out), '--root', root, '--report-only'], base=base,
             log=lambda line: None)
    assert json.loads((out / 'paper_gap.json').read_text())['runs'] == runs
