"""``benchmarks/masking.py``: a comparison's checkpoints scored masked and unmasked."""
import json
import sys

import pytest

import torch

from pyg_llminit.experiment import ExperimentConfig, compare, evaluate_run
from pyg_llminit.training import TrainConfig


def test_masked_equals_the_runs_own_and_every_item_ranks_no_higher(
        load_benchmark, make_csv_graph, tmp_path, monkeypatch, capsys):
    graph = make_csv_graph(tmp_path / 'graph')
    out, root = tmp_path / 'out', str(tmp_path / 'cache')
    base = ExperimentConfig(graph=str(graph), embedding_dim=8, train=TrainConfig(
        epochs=3, warmup=1, patience=2, batch_size=16, device='cpu'))
    compare(base, ['lightgcn'], ['none', 'variance'], [1, 2], out, root=root,
            log=lambda line: None)
    monkeypatch.setattr(sys, 'argv', ['masking.py', str(out), '--root', root])
    load_benchmark('masking').main()
    arms = json.loads((out / 'masking.json').read_text())['arms']
    assert set(arms) == {'lightgcn/none', 'lightgcn/variance'}
    for arm, row in arms.items():
        init = arm.split('/')[1]
        own = [json.loads((out / 'runs' / f'lightgcn-{init}-seed{s}' / 'results.json')
                          .read_text())['test'] for s in (1, 2)]
        for m in ('recall@10', 'ndcg@10'):  # these runs masked: the same numbers
            assert row['masked'][m]['mean'] == pytest.approx(sum(r[m] for r in own) / 2)
            # ranking seen items too can only push a held-out item down
            assert row['all items'][m]['mean'] <= row['masked'][m]['mean'] + 1e-9
        assert row['seeds'] == [1, 2]
    assert any(row['all items']['ndcg@10']['mean'] < row['masked']['ndcg@10']['mean']
               for row in arms.values())  # and here it does
    assert arms['lightgcn/none']['masked']['ndcg@10']['gain'] is None
    variance = arms['lightgcn/variance']['all items']['ndcg@10']
    assert variance['gain'] == pytest.approx(
        variance['mean'] / arms['lightgcn/none']['all items']['ndcg@10']['mean'] - 1)
    # the paired test over users: each user's value averaged over the two seeds, by hand
    from scipy.stats import ttest_rel

    from pyg_llminit.experiment import load_run
    per_user = {init: torch.stack([evaluate_run(
        load_run(out / 'runs' / f'lightgcn-{init}-seed{s}', root=root), 'test', k=(10,),
        mask_seen=False, per_user=True)['test_per_user']['ndcg@10'] for s in (1, 2)]).mean(0)
        for init in ('none', 'variance')}
    expected = ttest_rel(per_user['variance'].double().numpy(),
                         per_user['none'].double().numpy())
    assert variance['paired']['users'] == 30 and variance['paired']['seeds'] == 2
    assert variance['paired']['p'] == pytest.approx(float(expected.pvalue))
    assert arms['lightgcn/none']['all items']['ndcg@10']['paired'] is None
    assert '| lightgcn/variance | 1, 2 |' in (out / 'masking.md').read_text()


def test_a_folder_without_weights_is_refused(load_benchmark, tmp_path, monkeypatch):
    (tmp_path / 'runs' / 'lightgcn-none-seed1').mkdir(parents=True)
    monkeypatch.setattr(sys, 'argv', ['masking.py', str(tmp_path)])
    with pytest.raises(SystemExit, match='no finished run with its best.pt'):
        load_benchmark('masking').main()
    assert not (tmp_path / 'masking.json').exists()
