"""The experiment pipeline: one writer of the run folder, one schema, loaded back."""
import json
import subprocess
import sys

import pytest

from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import (ExperimentConfig, RunFolder, evaluate_run, load_run,
                                    prepare, run_experiment)
from pyg_llminit.training import TrainConfig


def _config(graph, **kwargs):
    return ExperimentConfig(graph=str(graph), embedding_dim=8,
                            train=TrainConfig(epochs=2, batch_size=16, device='cpu'), **kwargs)


def test_run_experiment_writes_the_run_folder_and_loads_back(csv_graph, tmp_path):
    lines = []
    out = tmp_path / 'run'
    results = run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'),
                             log=lines.append)
    text = '\n'.join(lines)
    assert text.index('statistic') < text.index('epoch   1') < text.index('test most-popular')
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [RunFolder.CONFIG, RunFolder.HISTORY, RunFolder.BEST, RunFolder.RESULTS])
    assert json.loads((out / 'results.json').read_text()) == json.loads(json.dumps(results))
    saved = ExperimentConfig.from_dict(json.loads((out / 'config.json').read_text()))
    assert saved == _config(csv_graph)
    run = load_run(out, root=str(tmp_path / 'cache'))
    assert run.config == saved
    again = evaluate_run(run, 'test')
    for key in ('test', 'test_most_popular', 'test_by_user_degree'):
        assert again[key] == results[key], key


def test_prepare_splits_with_the_split_seed(csv_graph):
    quiet = lambda line: None  # noqa: E731
    by_seed = [prepare(_config(csv_graph, order='random', split_seed=s), log=quiet)
               for s in (1, 1, 2)]
    tests = [p.test['user', 'rates', 'item'].edge_label_index for p in by_seed]
    assert tests[0].tolist() == tests[1].tolist() != tests[2].tolist()


def test_bad_output_folder_fails_before_loading(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(UserInputError, match='out .*cannot write there') as err:
        run_experiment(_config('no-such-graph'), blocker / 'run')
    assert err.value.param == 'out'


def test_a_trainer_changes_no_process_wide_setting():
    r"""The allocator option is the CLI's choice, not a side effect of the library."""
    code = '''
import torch
from pyg_llminit.datasets import build_interaction_graph
from pyg_llminit.models import LightGCN
from pyg_llminit.training import TrainConfig, Trainer, allocator
from pyg_llminit.transforms import LeaveOneOutSplit
users = [f"u{u}" for u in range(6) for _ in range(4)]
items = [f"i{(u + k) % 9}" for u in range(6) for k in range(4)]
train, val, test = LeaveOneOutSplit()(build_interaction_graph(users, items))
Trainer(LightGCN(6, 9, 4), train, val, test, TrainConfig(epochs=1, topk=(5,), monitor='ndcg@5')).fit()
print(allocator._done)
'''
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == 'False'
