"""``benchmarks/info_nce_speed.py``: both forms run on every shape and give the same loss."""
import json
import sys


def test_writes_a_row_per_shape(load_benchmark, tmp_path, monkeypatch, capsys):
    bench = load_benchmark('info_nce_speed')
    monkeypatch.setattr(bench, 'SHAPES', {'all-node': (16, 40), 'batch': (12, 12)})
    out = tmp_path / 'speed.json'
    monkeypatch.setattr(sys, 'argv', ['info_nce_speed.py', '--repeats', '1', '--out', str(out)])
    bench.main()
    rows = json.loads(out.read_text())['rows']
    assert [(r['anchors'], r['candidates']) for r in rows] == [(16, 40), (12, 12)]
    assert all(r['autograd_s'] > 0 and r['fused_s'] > 0 for r in rows)
    assert '| all-node | 16 x 40 |' in capsys.readouterr().out
