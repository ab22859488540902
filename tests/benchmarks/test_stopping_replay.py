"""``benchmarks/stopping_replay.py``: stopping rules replayed on recorded curves."""
import json
import sys


def test_rules_replayed_on_recorded_curves(load_benchmark, tmp_path, monkeypatch, capsys):
    replay = load_benchmark('stopping_replay')
    curve = [0.01 * min(e, 40) for e in range(1, 41)] + [0.39] * 20  # peak 40, flat after
    run = tmp_path / 'cmp' / 'runs' / 'lightgcn-none-seed1'
    run.mkdir(parents=True)
    (run / 'history.json').write_text(json.dumps(
        [{'epoch': e, 'val': {'ndcg@10': s}} for e, s in enumerate(curve, start=1)]))
    assert replay.replay(curve, 'strict', 10, 30) == (50, 40, 0.4)
    assert replay.replay(curve, 'strict', 30, 30) == (None, 40, 0.4)  # past the record
    monkeypatch.setattr(sys, 'argv', ['stopping_replay.py', str(tmp_path / 'cmp'), '--rules',
                                      'strict:10,strict:30'])
    replay.main()
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith('| cmp/lightgcn-none-seed1 |'))
    assert row == ('| cmp/lightgcn-none-seed1 | 60 | 40: 0.4000 | 50 -> 40: 0.4000 | '
                   '>60 -> 40: 0.4000 |')
