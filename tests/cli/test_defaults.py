"""Every option of one experiment has one default: what train, compare and tune build from
no flags at all is the library's ExperimentConfig() (and TrainConfig()) field for field."""
import dataclasses

import pytest

from pyg_llminit.cli.compare import compare_command
from pyg_llminit.cli.experiment_options import OPTIONS, experiment_config
from pyg_llminit.cli.train import train_command
from pyg_llminit.cli.tune import tune_command
from pyg_llminit.experiment import ExperimentConfig
from pyg_llminit.experiment.plan import SPLIT_SEED


def differences(a, b, prefix=''):
    out = []
    for field in dataclasses.fields(b):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if dataclasses.is_dataclass(y):
            out += differences(x, y, f'{prefix}{field.name}.')
        elif x != y:
            out.append(f'{prefix}{field.name}: command line {x!r}, library {y!r}')
    return out


def experiment_names():
    r"""The parameter names of the shared experiment options."""
    def probe():
        pass
    for option in OPTIONS:
        probe = option(probe)
    return {p.name for p in probe.__click_params__}


@pytest.mark.parametrize('command', [train_command, compare_command, tune_command],
                         ids=lambda c: c.name)
def test_no_flags_build_the_librarys_default_config(command):
    names = experiment_names()
    with command.make_context(command.name, ['--out', 'x']) as ctx:
        params = dict(ctx.params)
        built = experiment_config(model='lightgcn', init='none', seed=params.get('seed', 2020),
                                  **{k: v for k, v in params.items() if k in names})
    assert not differences(built, ExperimentConfig())
    # the split: train draws it from --seed unless given; a comparison fixes one for all
    assert params.get('split_seed') in (None, SPLIT_SEED)
    assert params.get('seed', 2020) == ExperimentConfig().train.seed
