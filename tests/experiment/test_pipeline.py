"""The experiment pipeline: one writer of the run folder, one schema, loaded back."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import (ExperimentConfig, RunFolder, evaluate_run, load_run,
                                    prepare, run_experiment)
from pyg_llminit.training import TrainConfig


def _config(graph, **kwargs):
    kwargs.setdefault('train', TrainConfig(epochs=2, batch_size=16, device='cpu'))
    return ExperimentConfig(graph=str(graph), embedding_dim=8, **kwargs)


def test_run_experiment_writes_the_run_folder_and_loads_back(csv_graph, tmp_path):
    lines = []
    out = tmp_path / 'run'
    results = run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'),
                             log=lines.append)
    text = '\n'.join(lines)
    assert text.index('statistic') < text.index('epoch   1') < text.index('test most-popular')
    assert sorted(p.name for p in out.iterdir()) == sorted(RunFolder.FILES)
    # console.log holds the whole console output, the lines before the folder's first
    # file included
    assert (out / 'console.log').read_text() == ''.join(f'{line}\n' for line in lines)
    assert json.loads((out / 'results.json').read_text()) == json.loads(json.dumps(results))
    saved = ExperimentConfig.from_dict(json.loads((out / 'config.json').read_text()))
    assert saved == _config(csv_graph)
    run = load_run(out, root=str(tmp_path / 'cache'))
    assert run.config == saved
    again = evaluate_run(run, 'test')
    for key in ('test', 'test_most_popular', 'test_by_user_degree'):
        assert again[key] == results[key], key
    # the collapse measures are those of the best checkpoint's tables
    from pyg_llminit.evaluation.collapse import effective_rank
    users, items = run.model(run.adj)
    collapse = results['embedding_collapse']
    assert collapse['user_propagated']['effective_rank'] == pytest.approx(
        effective_rank(users.detach()))
    assert collapse['item_ego']['effective_rank'] == pytest.approx(
        effective_rank(run.model.embedding.weight[30:].detach()))
    assert 1 <= collapse['item_propagated']['effective_rank'] <= 8
    s = torch.linalg.svdvals(items.detach().double())
    assert collapse['item_propagated']['information_abundance'] == pytest.approx(
        float(s.sum() / s.max()))
    line = next(x for x in text.splitlines() if x.startswith('embedding collapse'))
    rank, abundance = (collapse['user_ego'][m] for m in ('effective_rank',
                                                          'information_abundance'))
    assert f'user ego {rank:.1f} / {abundance:.1f} of 8' in line


def test_per_user_test_metrics_are_written_and_average_to_the_results(csv_graph, tmp_path):
    out = tmp_path / 'run'
    results = run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'),
                             log=lambda line: None)
    assert (out / 'test_per_user.csv').read_text().splitlines()[0] == (
        'user_id,user_index,train_degree,' + ','.join(results['test']))
    per_user = RunFolder(out).read_per_user()
    run = load_run(out, root=str(tmp_path / 'cache'))
    assert per_user['user'].tolist() == list(range(30))  # every user has a test item
    degree = run.train['user', 'rates', 'item'].edge_index[0].bincount(minlength=30)
    assert per_user['train_degree'].tolist() == degree.tolist()
    for name, value in results['test'].items():
        assert float(per_user[name].mean()) == pytest.approx(value, abs=1e-5), name
    ids = [line.split(',')[0] for line in (out / 'test_per_user.csv').read_text().split()[1:]]
    assert ids == list(run.data['user'].ids)


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
Trainer(LightGCN(6, 9, 4), train, val, test,
        TrainConfig(epochs=1, topk=(5,), monitor='ndcg@5')).fit()
print(allocator._done)
'''
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == 'False'


def test_a_folder_holding_files_is_refused_unless_overwrite(csv_graph, tmp_path):
    out = tmp_path / 'project'
    out.mkdir()
    (out / 'notes.txt').write_text('mine')
    quiet = lambda line: None  # noqa: E731
    with pytest.raises(UserInputError, match='already holds files .notes.txt.') as err:
        run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'), log=quiet)
    assert err.value.param == 'out' and sorted(p.name for p in out.iterdir()) == ['notes.txt']
    run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'), log=quiet,
                   overwrite=True)
    (out / 'results.json').write_text('stale')
    (out / 'best.pt').unlink()
    with pytest.raises(UserInputError):  # the config cannot be built: nothing is replaced
        run_experiment(_config(csv_graph, model='nope'), out, overwrite=True, log=quiet)
    assert (out / 'results.json').read_text() == 'stale'
    run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'), log=quiet,
                   overwrite=True)  # the earlier run's files go, the user's stay
    assert json.loads((out / 'results.json').read_text())['epochs_run'] == 2
    assert (out / 'notes.txt').read_text() == 'mine' and (out / 'best.pt').is_file()


def test_default_folders_are_unique_and_removed_if_the_run_fails(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _config('amazon')
    runs = [RunFolder.for_new_run(None, config) for _ in range(3)]
    folders = [run.path for run in runs]
    assert len(set(folders)) == 3 and all(f.is_dir() for f in folders)
    assert folders[1].name == folders[0].name + '-2'
    for run in runs:
        run.path.rmdir()
        run.close()  # a folder that is gone leaves no lock file either
    with pytest.raises(UserInputError, match="unknown graph 'no-such-graph'"):
        run_experiment(_config('no-such-graph'), log=lambda line: None)
    assert not list((tmp_path / 'runs').iterdir())


def test_provenance_is_recorded_and_a_changed_graph_refused(csv_graph, tmp_path):
    out = tmp_path / 'run'
    run_experiment(_config(csv_graph), out, root=str(tmp_path / 'cache'),
                   log=lambda line: None)
    provenance = json.loads((out / 'provenance.json').read_text())
    assert provenance['graph_path'] == str(csv_graph.absolute())
    assert provenance['data']['users'] == 30 and len(provenance['data']['sha256']) == 64
    assert {'pyg_llminit', 'torch', 'torch_geometric', 'python', 'transformers',
            'command'} <= set(provenance)
    assert provenance['text_vectors'] is None  # init none: no text vectors
    root = Path(__file__).resolve().parents[2]
    if (root / '.git').exists():  # the tests run from a checkout: its commit is recorded
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True,
                              cwd=root).stdout.strip()
        assert provenance['git_commit'].rstrip('+') == head
    load_run(out)  # unchanged: loads
    lines = (csv_graph / 'interactions.csv').read_text().splitlines()
    (csv_graph / 'interactions.csv').write_text('\n'.join(lines[:-1]) + '\n')
    with pytest.raises(UserInputError, match=r'no longer the one this run was trained on '
                                             r'\(interactions \d+ -> \d+\)'):
        load_run(out)


def test_two_runs_with_one_seed_give_identical_results(csv_graph, tmp_path):
    r"""On the CPU a seed fixes everything but the clock: the metrics, the best epoch and
    every epoch's loss and validation metrics."""
    runs = []
    for name in ('a', 'b'):
        config = _config(csv_graph, model='sgl', train=TrainConfig(epochs=4, batch_size=16,
                                                                   device='cpu'))
        results = run_experiment(config, tmp_path / name, root=str(tmp_path / 'cache'),
                                 log=lambda line: None)
        history = json.loads((tmp_path / name / 'history.json').read_text())
        for key in ('train_seconds', 'seconds_per_epoch'):
            results.pop(key)
        runs.append((results, [(h['loss'], h['val']) for h in history]))
    assert runs[0] == runs[1]


def test_deterministic_kernels_run_and_change_nothing_on_the_cpu(csv_graph, tmp_path):
    import torch
    results = []
    try:
        for flag in (False, True):
            config = _config(csv_graph, model='sgl', train=TrainConfig(
                epochs=3, batch_size=16, device='cpu', deterministic=flag))
            out = run_experiment(config, tmp_path / str(flag), root=str(tmp_path / 'cache'),
                                 log=lambda line: None)
            assert torch.are_deterministic_algorithms_enabled() == flag
            results.append((out['test'], out['valid'], out['best_epoch']))
    finally:
        torch.use_deterministic_algorithms(False)
    assert results[0] == results[1]


def test_an_llminit_run_starts_from_the_selected_text_dims(csv_graph, tmp_path):
    r"""The model a ``variance`` run trains starts from LLMInit-Var computed here by hand
    (the d columns of largest variance over the 20% most popular items; users the mean of
    their training items), and an ``--embedding`` file whose rows come in another order
    gives the same start, matched by item id."""
    import math

    import torch

    from pyg_llminit.experiment import create_model
    from pyg_llminit.text import encode_items
    from pyg_llminit.transforms.split import train_index
    root = str(tmp_path / 'cache')
    config = _config(csv_graph, init='variance')
    prepared = prepare(config, root, log=lambda line: None)
    text = encode_items(prepared.train, 'minilm', 'title').double()
    users, items = train_index(prepared.train)
    num_users, num_items = prepared.data['user'].num_nodes, text.size(0)
    degree = torch.bincount(items, minlength=num_items)
    popular = sorted(range(num_items), key=lambda i: (-int(degree[i]), i))
    popular = popular[:math.ceil(0.2 * num_items)]
    variance = text[popular].var(dim=0, unbiased=False)
    columns = sorted(sorted(range(text.size(1)), key=lambda c: (-float(variance[c]), c))[:8])
    item_x = text[:, columns]
    user_x = torch.stack([item_x[items[users == u]].mean(0) for u in range(num_users)])
    assert torch.allclose(prepared.item_x.double(), item_x, atol=1e-6)
    assert torch.allclose(prepared.user_x.double(), user_x, atol=1e-6)
    model = create_model(config, prepared)
    assert torch.allclose(model.embedding.weight.detach().double(),
                          torch.cat([user_x, item_x]), atol=1e-6)
    # the same vectors from a file, rows in reverse order of the graph's items
    ids = prepared.data['item'].ids
    path = tmp_path / 'vectors.csv'
    path.write_text(''.join(f'{ids[i]},' + ','.join(repr(float(v)) for v in text[i]) + '\n'
                            for i in reversed(range(num_items))))
    from_file = prepare(_config(csv_graph, init='variance', embedding_file=str(path)), root,
                        log=lambda line: None)
    assert torch.allclose(from_file.item_x.double(), item_x, atol=1e-6)
