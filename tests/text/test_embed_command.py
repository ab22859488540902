r"""``pyg-llminit embed``: the item texts encoded once, and a later LLMInit run reads them
from that cache instead of encoding again."""
from safetensors.torch import load_file

from pyg_llminit.cli.main import main
from pyg_llminit.datasets import load_graph
from pyg_llminit.text.presets import resolve_encoder
from pyg_llminit.text.recipe import item_texts


def test_embed_caches_what_a_later_training_run_reads(csv_graph, tmp_path, monkeypatch,
                                                      capsys):
    monkeypatch.setenv('PYG_LLMINIT_HOME', str(tmp_path / 'home'))
    root = str(tmp_path / 'cache')
    main(['embed', '--graph', str(csv_graph), '--root', root])
    assert '25 items x 384 dims from minilm' in capsys.readouterr().out
    files = list((tmp_path / 'home' / 'embeddings').glob('*.safetensors'))
    assert len(files) == 1
    cached, stamp = load_file(files[0]), files[0].stat().st_mtime_ns
    (matrix,) = cached.values()
    data = load_graph(str(csv_graph), root)
    assert matrix.shape == (25, 384)
    fresh = resolve_encoder('minilm').encode(item_texts(data, ('title',)), progress=False)
    assert (matrix - fresh).abs().max() < 1e-5  # the titles, encoded without the cache
    # training from variance finds the same file: nothing new, nothing rewritten
    main(['train', '--graph', str(csv_graph), '--root', root, '--init', 'variance', '--dim',
          '8', '--epochs', '1', '--batch-size', '16', '--device', 'cpu', '--out',
          str(tmp_path / 'run')])
    assert list((tmp_path / 'home' / 'embeddings').glob('*.safetensors')) == files
    assert files[0].stat().st_mtime_ns == stamp
