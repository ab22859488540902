"""``benchmarks/side_by_side.py``: finished comparisons side by side, paired over users
where they test the same users on the same items."""
import dataclasses
import json
import re

import pytest
from scipy.stats import ttest_rel

from pyg_llminit.experiment import ExperimentConfig, RunFolder, compare
from pyg_llminit.training import TrainConfig


def test_two_l2_weights_side_by_side_and_paired(load_benchmark, csv_graph, tmp_path):
    base = ExperimentConfig(graph=str(csv_graph), embedding_dim=8,
                            train=TrainConfig(epochs=2, warmup=0, batch_size=16))
    folders = {}
    for name, reg in (('reg', 1e-2), ('reg0', 0.0), ('paper', 1e-2)):
        config = dataclasses.replace(base, reg_weight=reg)
        if name == 'paper':
            config = dataclasses.replace(config, order='random')
        folders[name] = tmp_path / name
        compare(config, ['lightgcn'], ['none', 'uniform'], [1, 2], folders[name],
                root=str(tmp_path / 'cache'), log=lambda line: None)
    text = load_benchmark('side_by_side').render([folders['reg'], folders['reg0']])
    assert '| reg_weight | 0.01 | 0.0 |' in text
    assert '| lightgcn/uniform |' in text
    # the paired test against an independent one on the run folders' per-user values
    runs = lambda f: [RunFolder(f / 'runs' / f'lightgcn-none-seed{s}').read_per_user()  # noqa
                      for s in (1, 2)]
    first = sum(c['ndcg@10'] for c in runs(folders['reg'])) / 2
    other = sum(c['ndcg@10'] for c in runs(folders['reg0'])) / 2
    p = ttest_rel(other.numpy(), first.numpy()).pvalue
    row = next(line for line in text.splitlines()
               if line.startswith('| lightgcn/none | reg0 | ndcg@10 |'))
    assert row.endswith(f'| {p:.2g} |')
    # a committed folder without its per-user tables: the seeds left pair, none says so
    (folders['reg0'] / 'runs' / 'lightgcn-none-seed1' / RunFolder.PER_USER).unlink()
    text = load_benchmark('side_by_side').render([folders['reg'], folders['reg0']])
    row = next(line for line in text.splitlines()
               if line.startswith('| lightgcn/none | reg0 | ndcg@10 |'))
    assert row.split(' | ')[4] == '1'  # seeds
    for csv in folders['reg0'].glob(f'runs/*/{RunFolder.PER_USER}'):
        csv.unlink()
    text = load_benchmark('side_by_side').render([folders['reg'], folders['reg0']])
    assert '| lightgcn/none | reg0 | ndcg@10 | no per-user tables |' in text
    # another split: side by side, but no paired test
    text = load_benchmark('side_by_side').render([folders['reg'], folders['paper']])
    assert '| order | "time" | "random" |' in text
    assert 'No paired test' in text and 'Paired t-test' not in text


def test_a_setting_an_older_folder_lacks_counts_as_its_default(load_benchmark, csv_graph,
                                                               tmp_path):
    base = ExperimentConfig(graph=str(csv_graph), embedding_dim=8,
                            train=TrainConfig(epochs=1, warmup=0, batch_size=16))
    old, new = tmp_path / 'old', tmp_path / 'new'
    for folder, config in ((old, base), (new, dataclasses.replace(base, popular_ratio=0.3))):
        compare(config, ['lightgcn'], ['none', 'uniform'], [1], folder,
                root=str(tmp_path / 'cache'), log=lambda line: None)
    summary = json.loads((old / 'compare.json').read_text())
    del summary['settings']['config']['cold_map']  # as if made before --cold-map existed
    del summary['settings']['config']['train']['stopping']
    (old / 'compare.json').write_text(json.dumps(summary))
    text = load_benchmark('side_by_side').render([old, new])
    assert '| popular_ratio | 0.2 | 0.3 |' in text
    assert '| cold_map |' not in text and '| train.stopping |' not in text


def test_a_folder_that_is_not_a_finished_comparison_is_one_error(load_benchmark, tmp_path,
                                                                  monkeypatch):
    import sys
    (tmp_path / 'unfinished' / 'runs').mkdir(parents=True)
    (tmp_path / 'broken').mkdir()
    (tmp_path / 'broken' / 'compare.json').write_text('{"settings": ')
    bench = load_benchmark('side_by_side')
    for folder, message in (('unfinished', 'no compare.json (not a finished comparison)'),
                            ('broken', 'compare.json: malformed')):
        monkeypatch.setattr(sys, 'argv', ['side_by_side.py', str(tmp_path / folder),
                                          str(tmp_path / 'broken')])
        with pytest.raises(SystemExit, match=re.escape(message)):
            bench.main()
