"""ExperimentConfig: library names, round trip, checks before any data is loaded."""
import json

import pytest

from pyg_llminit.cli.options import flag
from pyg_llminit.errors import UserInputError
from pyg_llminit.experiment import ExperimentConfig
from pyg_llminit.training import TrainConfig


def test_round_trip_through_json():
    config = ExperimentConfig(graph='ml-100k', model='sgl', embedding_dim=64, num_layers=3,
                              model_options={'ssl_weight': 0.1}, init='variance',
                              train=TrainConfig(epochs=7, topk=(5, 10), fanout=(4, 4, 2)))
    values = json.loads(json.dumps(config.to_dict()))
    assert values['embedding_dim'] == 64 and values['train']['topk'] == [5, 10]
    assert ExperimentConfig.from_dict(values) == config


@pytest.mark.parametrize('kwargs, param, message', [
    ({'embedding_dim': 0}, 'embedding_dim', 'embedding_dim must be an integer of at least 1'),
    ({'num_layers': -1}, 'num_layers', 'num_layers must be an integer of at least 0'),
    ({'reg_weight': float('nan')}, 'reg_weight', 'reg_weight must be a finite number'),
    ({'model': 'gcmc'}, 'model', "model 'gcmc' is unknown"),
    ({'init': 'magic'}, 'init', "init 'magic' is unknown"),
    ({'model': 'sgl', 'model_options': {'ssl_tau': 0}}, None, 'ssl_tau must be positive'),
    ({'split': 'half'}, None, "unknown split 'half'"),
])
def test_errors_name_the_parameter(kwargs, param, message):
    with pytest.raises(UserInputError, match=message) as err:
        ExperimentConfig(**kwargs)
    assert err.value.param == param


@pytest.mark.parametrize('kwargs, message', [
    ({'lr': -1.0}, 'lr must be a positive finite number'),
    ({'lr': float('inf')}, 'lr must be a positive finite number'),
    ({'epochs': 0}, 'epochs must be at least 1'),
    ({'epochs': 1.7}, 'epochs must be an integer'),
    ({'loader': 'magic'}, 'loader must be one of full, neighbor'),
    ({'user_groups': (6, 3)}, 'user_groups must be increasing'),
])
def test_train_config_errors_speak_in_parameter_names(kwargs, message):
    with pytest.raises(UserInputError, match=message):
        TrainConfig(**kwargs)


def test_error_in_terms_of_flags():
    with pytest.raises(UserInputError) as err:
        ExperimentConfig(embedding_dim=0)
    assert err.value.in_terms_of(flag).startswith('--dim must be')
    assert err.value.in_terms_of(str.upper).startswith('EMBEDDING_DIM must be')


def test_from_dict_refuses_unknown_settings():
    with pytest.raises(UserInputError, match="unknown experiment setting 'dim'"):
        ExperimentConfig.from_dict({'dim': 64})
    with pytest.raises(UserInputError, match="unknown training setting 'epoch'"):
        ExperimentConfig.from_dict({'train': {'epoch': 3}})


def test_apply_protocol_paper_sets_the_authors_settings():
    from pyg_llminit.experiment import apply_protocol
    config = apply_protocol(ExperimentConfig(embedding_dim=64), 'paper')
    assert (config.order, config.embedding_dim, config.train.batch_size, config.train.lr,
            config.train.stopping, config.train.negatives, config.train.mask_seen,
            config.normalize) == ('random', 128, 256, 1e-3, 'recbole', 'positive', False,
                                  'minmax')
    assert ExperimentConfig().normalize == 'none'
    with pytest.raises(UserInputError, match="normalize 'l2' is unknown"):
        ExperimentConfig(normalize='l2')
    assert apply_protocol(ExperimentConfig(), 'default') == ExperimentConfig()
    with pytest.raises(UserInputError, match="protocol 'rec' is unknown"):
        apply_protocol(ExperimentConfig(), 'rec')


def test_the_paper_protocol_filters_ratings_where_the_graph_has_them(tmp_path, capsys):
    r"""``--protocol paper`` keeps ratings >= 4 before the k-core, as the authors do; on the
    embedded Beauty, which holds no ratings, it says so in one line and records no filter."""
    import json

    from pyg_llminit.cli.main import main
    rated = tmp_path / 'rated'
    rated.mkdir()
    rows = [f'u{u},i{i},{1 + (u + i) % 5},{i}' for u in range(12) for i in range(12)]
    (rated / 'interactions.csv').write_text('user,item,rating,timestamp\n' +
                                            '\n'.join(rows) + '\n')
    common = ['--protocol', 'paper', '--init', 'none', '--dim', '8', '--epochs', '1',
              '--device', 'cpu', '--root', str(tmp_path / 'cache')]
    main(['train', '--graph', str(rated), *common, '--topk', '5', '--monitor', 'ndcg@5',
          '--out', str(tmp_path / 'r1')])
    assert json.loads((tmp_path / 'r1' / 'config.json').read_text())['min_rating'] == 4.0
    kept = sum(1 + (u + i) % 5 >= 4 for u in range(12) for i in range(12))
    provenance = json.loads((tmp_path / 'r1' / 'provenance.json').read_text())
    assert provenance['data']['interactions'] == kept == 56  # of 144
    assert 'note:' not in capsys.readouterr().out
    main(['train', '--graph', 'amazon', *common, '--batch-size', '16384',
          '--out', str(tmp_path / 'r2')])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        'note: the preset keeps ratings >= 4 before the k-core where a graph has ratings; '
        'amazon holds none (a 5-core of reviews without their stars), so every interaction '
        'is kept')
    assert json.loads((tmp_path / 'r2' / 'config.json').read_text())['min_rating'] is None
    with pytest.warns(UserWarning, match='amazon holds none'):
        assert apply_protocol_paper_on('amazon').min_rating is None
    assert apply_protocol_paper_on(str(rated)).min_rating == 4.0


def apply_protocol_paper_on(graph):
    from pyg_llminit.experiment import apply_protocol
    return apply_protocol(ExperimentConfig(graph=graph), 'paper')
