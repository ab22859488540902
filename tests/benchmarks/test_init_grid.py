"""``benchmarks/init_grid.py``: a thin caller of ``compare`` whose tables land in a
write-up's block."""
import sys


def test_init_grid_runs_a_comparison_and_fills_the_doc_block(load_benchmark, csv_graph,
                                                              tmp_path, monkeypatch):
    init_grid = load_benchmark('init_grid')
    out = tmp_path / 'grid'
    doc = tmp_path / 'DOC.md'
    doc.write_text('# Notes\n<!-- compare:grid -->\nold\n<!-- /compare:grid -->\nafter\n')
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path / 'home'))
    monkeypatch.setattr(sys, 'argv', [
        'init_grid.py', '--graph', str(csv_graph), '--inits', 'none,uniform', '--seeds', '1',
        '--epochs', '2', '--warmup', '0', '--patience', '1', '--batch-size', '32',
        '--out', str(out), '--doc', str(doc)])
    init_grid.main()
    summary = (out / 'compare.md').read_text()
    assert '| lightgcn/uniform |' in summary
    text = doc.read_text()
    assert text.startswith('# Notes\n<!-- compare:grid -->\nFrom `')
    assert text.endswith('<!-- /compare:grid -->\nafter\n') and 'old' not in text
    assert '## Test metrics' in text and '## Paired test' in text
    assert '## Time to' not in text
    config = (out / 'runs' / 'lightgcn-uniform-seed1' / 'config.json').read_text()
    assert '"embedding_dim": 128' in config and '"split_seed": 2020' in config
