"""A run on a cold-item split: trained on the warm items, validated and tested on items it
never saw, scored from their text; the same numbers when the run is evaluated again."""
import json

import pytest

from pyg_llminit.experiment import (ExperimentConfig, RunFolder, evaluate_run, load_run,
                                    run_experiment)
from pyg_llminit.training import TrainConfig


def _config(graph, init):
    train = TrainConfig(epochs=3, batch_size=16, device='cpu', topk=(2, 5),
                        monitor='ndcg@5', warmup=0)
    return ExperimentConfig(graph=str(graph), embedding_dim=8, init=init,
                            split='cold-items:0.5', train=train)


@pytest.mark.parametrize('init', ['variance', 'none'])
def test_cold_item_run_reports_the_map_and_its_references(csv_graph, tmp_path, init):
    lines = []
    out = tmp_path / 'run'
    config = _config(csv_graph, init)
    assert config.uses_text and config.cold_items
    results = run_experiment(config, out, root=str(tmp_path / 'cache'), log=lines.append)
    text = '\n'.join(lines)
    assert 'split ColdItemSplit(ratio=0.5, seed=' in text
    assert 'valid and test with the ridge map from text to item embedding' in text
    references = {'mlp', 'text', 'random'} | ({'llminit'} if init != 'none' else set())
    assert set(results['test_cold_references']) == references
    assert 'test_most_popular' not in results
    for metrics in (results['test'], *results['test_cold_references'].values()):
        assert 0 <= metrics['ndcg@5'] <= 1
    # per user: the csv's rows average to the result
    per_user = RunFolder(out).read_per_user()
    assert sum(per_user['ndcg@5']) / len(per_user['ndcg@5']) == pytest.approx(
        results['test']['ndcg@5'], abs=1e-6)
    # evaluated again from the folder: the same numbers
    run = load_run(out, root=str(tmp_path / 'cache'))
    again = evaluate_run(run, 'test', k=(2, 5))
    assert again['ranking'] == 'held-out items ranked'
    assert again['test'] == pytest.approx(results['test'])
    for name, metrics in results['test_cold_references'].items():
        assert again['test_cold_references'][name] == pytest.approx(metrics), name
    assert json.loads((out / 'config.json').read_text())['split'] == 'cold-items:0.5'


def test_cold_item_run_through_the_cli(csv_graph, tmp_path, capsys):
    from pyg_llminit.cli.main import main
    out = tmp_path / 'run'
    main(['train', '--graph', str(csv_graph), '--split', 'cold-items:0.5', '--cold-map',
          'mlp', '--init', 'uniform', '--dim', '8', '--epochs', '2', '--batch-size', '16',
          '--topk', '2,5', '--monitor', 'ndcg@5', '--device', 'cpu', '--root',
          str(tmp_path / 'cache'), '--out', str(out), '--split-seed', '7'])
    printed = capsys.readouterr().out
    assert 'test ridge' in printed and 'test text' in printed
    main(['evaluate', str(out), '--topk', '2,5', '--root', str(tmp_path / 'cache'),
          '--device', 'cpu'])
    assert 'test llminit' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:  # held-out items only: no masking to override
        main(['evaluate', str(out), '--mask-seen', '--root', str(tmp_path / 'cache'),
              '--device', 'cpu'])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().startswith(
        'error: --mask-seen / --no-mask-seen do not apply to a cold-item run')
    saved = json.loads((out / 'config.json').read_text())
    assert saved['cold_map'] == 'mlp' and saved['split_seed'] == 7
    assert 'split ColdItemSplit(ratio=0.5, seed=7)' in (out / 'console.log').read_text()


def test_compare_on_held_out_items_reports_the_references(csv_graph, tmp_path):
    from pyg_llminit.experiment import compare
    base = _config(csv_graph, 'variance')
    summary = compare(base, ['lightgcn'], ['none', 'variance'], [1, 2], tmp_path / 'cmp',
                      root=str(tmp_path / 'cache'), log=lambda line: None)
    arms = summary['arms']
    assert set(arms['lightgcn/none']['cold_references']) == {'mlp', 'text', 'random'}
    assert set(arms['lightgcn/variance']['cold_references']) == {'mlp', 'llminit', 'text',
                                                                 'random'}
    runs = [json.loads((tmp_path / 'cmp' / 'runs' / f'lightgcn-variance-seed{s}' /
                        'results.json').read_text()) for s in (1, 2)]
    mean = sum(r['test_cold_references']['text']['ndcg@2'] for r in runs) / 2
    assert arms['lightgcn/variance']['cold_references']['text']['ndcg@2']['mean'] == \
        pytest.approx(mean)
    # the map against text similarity, paired over users within the arm (scipy, by hand)
    from scipy.stats import ttest_rel
    from pyg_llminit.experiment import RunFolder
    columns = [RunFolder(tmp_path / 'cmp' / 'runs' / f'lightgcn-variance-seed{s}')
               .read_per_user() for s in (1, 2)]
    model = sum(c['ndcg@2'] for c in columns) / 2
    text_sim = sum(c['text ndcg@2'] for c in columns) / 2
    paired = arms['lightgcn/variance']['cold_paired']['text']
    assert paired['p'] == pytest.approx(ttest_rel(model.numpy(), text_sim.numpy()).pvalue,
                                        rel=1e-4)
    assert paired['mean_difference'] == pytest.approx(float((model - text_sim).mean()),
                                                      abs=1e-6)
    text = (tmp_path / 'cmp' / 'compare.md').read_text()
    assert 'of the map\'s ndcg@2 against each reference' in text
    assert "## Held-out items: the model's map and the references" in text
    assert '| lightgcn/none |' in text and ' - |' in text  # no llminit vector for none


def test_ngcf_on_held_out_items_and_recommend_hides_them(csv_graph, tmp_path, capsys):
    import dataclasses
    from pyg_llminit.cli.main import main
    from pyg_llminit.transforms.split import cold_items
    out = tmp_path / 'ngcf'
    config = dataclasses.replace(_config(csv_graph, 'variance'), model='ngcf')
    results = run_experiment(config, out, root=str(tmp_path / 'cache'),
                             log=lambda line: None)
    # NGCF's final user table concatenates its layers: no LLMInit-vector reference
    assert set(results['test_cold_references']) == {'mlp', 'text', 'random'}
    recs = tmp_path / 'recs.json'
    main(['recommend', str(out), '--all-users', '-k', '5', '--out', str(recs),
          '--root', str(tmp_path / 'cache'), '--device', 'cpu'])
    run = load_run(out, root=str(tmp_path / 'cache'))
    held_out = {run.data['item'].ids[i] for i in cold_items(run.train).tolist()}
    listed = {r['item'] for lists in json.loads(recs.read_text()).values() for r in lists}
    assert listed and not listed & held_out


def test_a_run_whose_item_vectors_changed_since_is_refused(csv_graph, tmp_path, cli_error):
    r"""A cold-item run scores held-out items from their text vectors: evaluating it with
    other vectors (the --embedding file edited since) would score another model."""
    import numpy as np
    ids = [f'item{i}' for i in range(25)]
    vectors = np.random.default_rng(0).normal(size=(25, 16)).astype(np.float32)
    embedding = tmp_path / 'vectors.npz'
    np.savez(embedding, ids=np.array(ids), embedding=vectors)
    out, root = tmp_path / 'run', str(tmp_path / 'cache')
    from pyg_llminit.cli.main import main
    main(['train', '--graph', str(csv_graph), '--split', 'cold-items:0.5', '--init',
          'variance', '--embedding', str(embedding), '--dim', '8', '--epochs', '2',
          '--batch-size', '16', '--topk', '2,5', '--monitor', 'ndcg@5', '--device', 'cpu',
          '--root', root, '--out', str(out)])
    main(['evaluate', str(out), '--topk', '2,5', '--root', root, '--device', 'cpu'])
    vectors[3, 0] += 1.0  # one value of one item changed
    np.savez(embedding, ids=np.array(ids), embedding=vectors)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    cli_error(['evaluate', str(out), '--topk', '2,5', '--root', root, '--device', 'cpu'],
              f'error: {out}: the item text vectors are no longer those this run started '
              'from (sha256 ', code=3)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
