"""One default per option: the command line's defaults build exactly the library's default
:class:`~pyg_llminit.experiment.ExperimentConfig` (and its :class:`TrainConfig`)."""
import dataclasses

from pyg_llminit.cli.compare import compare_command
from pyg_llminit.cli.experiment_options import OPTIONS, experiment_config
from pyg_llminit.cli.train import train_command
from pyg_llminit.experiment import ExperimentConfig


def differences(config, library):
    r"""``{field: (cli, library)}`` where the two configs differ, nested ``train.`` too."""
    out = {}
    for field in dataclasses.fields(library):
        a, b = getattr(config, field.name), getattr(library, field.name)
        if dataclasses.is_dataclass(b):
            out.update({f'{field.name}.{k}': v for k, v in differences(a, b).items()})
        elif a != b:
            out[field.name] = (a, b)
    return out


def cli_defaults(command, *argv):
    ctx = command.make_context(command.name, list(argv))
    with ctx:
        params = {'model': 'lightgcn', 'init': 'none', 'seed': 2020, **ctx.params}
        return experiment_config(**params)


def test_train_defaults_are_the_library_defaults():
    assert differences(cli_defaults(train_command), ExperimentConfig()) == {}


def test_compare_defaults_are_the_library_defaults():
    # (its --split-seed, one split for every training seed, is applied per arm by
    # experiment.plan, not through this config)
    assert differences(cli_defaults(compare_command, '--out', 'unused'),
                       ExperimentConfig()) == {}


def test_every_shared_option_reaches_the_config():
    r"""Each option of train and compare, set to a non-default value, changes the config
    (none is parsed and then dropped)."""
    names = {option(lambda: None).__click_params__[0].name for option in OPTIONS}
    assert {'normalize', 'encoder_device', 'dim', 'lr', 'split'} <= names
    base = cli_defaults(train_command)
    changed = cli_defaults(train_command, '--normalize', 'minmax', '--encoder-device', 'cpu',
                           '--dim', '64', '--lr', '0.01', '--popular-ratio', '0.3')
    assert set(differences(changed, base)) == {'normalize', 'encoder_device', 'embedding_dim',
                                               'train.lr', 'popular_ratio'}
