"""Finished run folders: the rebuilt model and its evaluation, library and CLI."""
import json
import re
import shutil

import pytest
import torch

from pyg_llminit.cli.main import main
from pyg_llminit.datasets.graph import EDGE_TYPE
from pyg_llminit.errors import UserInputError
from pyg_llminit.io import load_torch
from pyg_llminit.experiment import RunFolder
from pyg_llminit.experiment.loading import evaluate_run, load_run


def test_load_run_rebuilds_the_best_checkpoint(finished_run):
    out, graph, root = finished_run
    run = load_run(out, root=str(root))
    state = load_torch(out / 'best.pt')
    assert run.config.model == 'ngcf' and not run.model.training
    for name, value in run.model.state_dict().items():
        assert torch.equal(value, state[name]), name
    # the rebuilt training graph is the run's: leave-one-out keeps all but 2 per user
    assert run.train[EDGE_TYPE].edge_index.size(1) == run.data[EDGE_TYPE].num_edges - 2 * 30


def test_evaluate_run_reproduces_the_runs_own_metrics(finished_run):
    out, graph, root = finished_run
    results = json.loads((out / 'results.json').read_text())
    run = load_run(out, root=str(root))
    test = evaluate_run(run, 'test')
    # the rebuilt graph, split, masks and weights give the run's numbers exactly
    # one schema: the run's results.json and a re-evaluation name things alike
    for key in ('test', 'test_most_popular', 'test_by_user_degree',
                'test_by_item_popularity'):
        assert test[key] == results[key], key
    assert evaluate_run(run, 'valid', user_groups=None, item_groups=None) == {
        'split': 'valid', 'ranking': 'seen items masked', 'valid': results['valid'],
        'valid_most_popular': evaluate_run(run, 'valid')['valid_most_popular']}
    more = evaluate_run(run, 'test', k=(3,), user_groups=(5, 6))
    assert set(more['test']) == {f'{m}@3' for m in ('recall', 'ndcg', 'hit', 'precision',
                                                      'mrr')}
    assert sum(g['users'] for g in more['test_by_user_degree'].values()) == 30


def test_a_run_that_hit_the_epoch_cap_warns_on_the_console_and_in_results(finished_run):
    out, _, _ = finished_run  # 2 epochs under the default patience 10: cut short by the cap
    results = json.loads((out / 'results.json').read_text())
    assert len(results['warnings']) == 1
    assert results['warnings'][0].startswith(
        f'stopped at the epoch cap (2) while still improving (best epoch '
        f'{results["best_epoch"]})')
    console = (out / 'console.log').read_text().splitlines()
    assert f'warning: {results["warnings"][0]}' in console


def test_evaluate_run_per_user_is_the_runs_own_table(finished_run):
    out, graph, root = finished_run
    run = load_run(out, root=str(root))
    table = RunFolder(out).read_per_user()
    got = evaluate_run(run, 'test', user_groups=None, item_groups=None,
                       per_user=True)['test_per_user']
    assert torch.equal(got['user'], table['user'])
    assert torch.equal(got['train_degree'], table['train_degree'])
    for metric in ('recall@10', 'ndcg@20'):  # the csv keeps 6 significant digits
        assert torch.allclose(got[metric].double(), table[metric].double(), atol=1e-5)
    assert 'test_per_user' not in evaluate_run(run, 'test')


def ranks_by_hand(run, mask_seen):
    r"""Each test user's rank of its held-out item among all items, from the model's own
    embeddings, with the training and validation items masked or not."""
    from pyg_llminit.transforms.split import label_index, train_index
    with torch.no_grad():
        users, items = run.model(run.adj)
        scores = users @ items.t()
    if mask_seen:
        for seen in (train_index(run.train), label_index(run.val)):
            scores[seen[0], seen[1]] = float('-inf')
    user, item = label_index(run.test)
    target = scores[user, item]
    return (scores[user] > target[:, None]).sum(1)


@pytest.mark.parametrize('mask_seen', [False, True])
def test_evaluate_run_masks_or_ranks_every_item_on_request(finished_run, mask_seen):
    out, graph, root = finished_run
    run = load_run(out, root=str(root))
    assert run.config.train.mask_seen  # the run masked; the override decides here
    got = evaluate_run(run, 'test', k=(5,), user_groups=None, item_groups=None,
                       mask_seen=mask_seen)['test']
    rank = ranks_by_hand(run, mask_seen).double()
    assert got['recall@5'] == pytest.approx(float((rank < 5).double().mean()), abs=1e-6)
    ndcg = torch.where(rank < 5, 1 / torch.log2(rank + 2), torch.zeros_like(rank))
    assert got['ndcg@5'] == pytest.approx(float(ndcg.mean()), abs=1e-6)
    if mask_seen:  # the default is the run's own masking
        assert evaluate_run(run, 'test', k=(5,), user_groups=None,
                            item_groups=None)['test'] == got
    else:  # seen items do outrank held-out ones here, so the two differ
        assert (rank > ranks_by_hand(run, True)).any()


def test_evaluate_command_notes_an_unfinished_run(finished_run, tmp_path, capsys):
    out, graph, root = finished_run
    unfinished = tmp_path / 'unfinished'
    shutil.copytree(out, unfinished)
    (unfinished / 'results.json').unlink()  # as while it trains: best.pt, no results
    main(['evaluate', str(unfinished), '--root', str(root), '--device', 'cpu'])
    captured = capsys.readouterr()
    assert captured.err.startswith(f'note: {unfinished} has no results.json (still training')
    assert 'recall@10' in captured.out
    main(['evaluate', str(out), '--root', str(root), '--device', 'cpu'])
    assert capsys.readouterr().err == ''


def test_evaluate_command_no_mask_seen(finished_run, tmp_path, capsys):
    out, graph, root = finished_run
    target = tmp_path / 'all-items.json'
    main(['evaluate', str(out), '--no-mask-seen', '--topk', '5', '--root', str(root),
          '--device', 'cpu', '--out', str(target)])
    assert ', test, every item ranked' in capsys.readouterr().out
    run = load_run(out, root=str(root))
    written = json.loads(target.read_text())
    assert written['ranking'] == 'every item ranked'  # the file says how it was scored
    assert written['test'] == evaluate_run(run, 'test', k=(5,), mask_seen=False)['test']


def test_evaluate_command_prints_and_writes(finished_run, tmp_path, capsys):
    out, graph, root = finished_run
    target = tmp_path / 'eval.json'
    main(['evaluate', str(out), '--on', 'valid', '--topk', '5', '--user-groups', '4,6',
          '--root', str(root), '--device', 'cpu', '--out', str(target)])
    text = capsys.readouterr().out
    assert 'valid most-popular' in text and 'ndcg@5' in text
    assert 'valid by training interactions per user' in text and '<=4' in text
    saved = json.loads(target.read_text())
    assert saved['split'] == 'valid' and set(saved['valid_by_user_degree']) <= {'<=4', '5-6', '>6'}


@pytest.mark.parametrize('args, message', [
    (['--user-groups', '6,4'], 'error: --user-groups must be increasing positive'),
    (['--topk', 'x'], 'error: --topk takes comma-separated integers'),
    (['--out', '/proc/none/x.json'], 'error: --out /proc/none/x.json: cannot write there'),
])
def test_evaluate_bad_input_is_one_line_exit_2(finished_run, args, message, cli_error):
    out, graph, root = finished_run
    cli_error(['evaluate', str(out), '--root', str(root), '--device', 'cpu', *args], message)


def test_runs_written_before_the_experiment_config_still_load(finished_run, tmp_path):
    r"""Older run folders hold one flat config.json in the command line's names."""
    out, graph, root = finished_run
    old = tmp_path / 'old'
    shutil.copytree(out, old)
    config = json.loads((out / 'config.json').read_text())
    flat = {k: v for k, v in config.items()
            if k not in ('train', 'embedding_dim', 'num_layers', 'reg_weight', 'split_seed')}
    flat.update(dim=config['embedding_dim'], layers=config['num_layers'],
                reg=config['reg_weight'], encoder=None, world_size=1, out=str(old),
                **config['train'])
    (old / 'config.json').write_text(json.dumps(flat))
    assert load_run(old, root=str(root)).config == load_run(out, root=str(root)).config


def test_a_malformed_config_is_one_line(finished_run, tmp_path, cli_error):
    out, graph, root = finished_run
    bad = tmp_path / 'bad'
    shutil.copytree(out, bad)
    (bad / 'config.json').write_text(json.dumps({'graph': str(graph), 'train': 'fast'}))
    cli_error(['evaluate', str(bad), '--root', str(root)], f'error: {bad / "config.json"}: '
              'malformed', code=3)


@pytest.mark.parametrize('edit, problem', [
    (lambda text: text.replace('user_index', 'uid', 1), "no column 'user_index'"),
    (lambda text: text.split('\n')[0] + '\nu1,first,3\n', 'invalid literal for int'),
    (lambda text: text.split('\n')[0] + '\nu1,0,3,abc\n', 'could not convert'),
    (lambda text: text.split('\n')[0] + '\nu1,0\n', 'index out of range'),
])
def test_a_malformed_per_user_table_is_one_error(finished_run, tmp_path, edit, problem):
    out, _, _ = finished_run
    bad = tmp_path / 'bad'
    shutil.copytree(out, bad)
    table = bad / RunFolder.PER_USER
    table.write_text(edit(table.read_text()))
    with pytest.raises(UserInputError, match=rf'{re.escape(str(table))}: malformed \(.*{problem}'):
        RunFolder(bad).read_per_user()
