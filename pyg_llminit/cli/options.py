"""What the ``pyg-llminit`` commands share: option values parsed into what the package
takes, help texts, and the flag that sets each library parameter (so a library error in
parameter names is shown in flag names)."""
from typing import Dict, List, Optional, Tuple

import click

from ..catalog import GRAPH_HELP, LOGGERS
from ..console import shown
from ..devices import DEVICE_HELP
from ..errors import UserInputError

#: Library parameter -> the flag that sets it, where the two names differ (otherwise
#: ``--`` + the name with dashes).
FLAGS: Dict[str, str] = {'embedding_dim': '--dim', 'num_layers': '--layers',
                         'reg_weight': '--reg', 'k': '-k', 'fields': '--text-fields',
                         'template': '--text-template', 'embedding_file': '--embedding'}

ROOT_HELP = ('Cache folder for processed graphs (default: $PYG_LLMINIT_HOME or '
             '~/.cache/pyg-llminit).')
ENCODER_HELP = ("a preset ('minilm', 384-d, the default; 'mpnet', 768-d; 'smollm2', 576-d; "
                "'gemma3-270m'), a folder or a Hugging Face id.")


#: ``--models``, on compare and tune.
models_option = click.option('--models', default='lightgcn', show_default=True,
                             help='Backbones, comma-separated; the arms are models x inits.')

#: ``--logger``, on train and compare.
logger_option = click.option(
    '--logger', 'loggers', multiple=True, type=click.Choice(list(LOGGERS),
                                                            case_sensitive=False),
    help="Also report every epoch and the results to an experiment tracker, repeatable: "
    "'csv' (RUN/metrics.csv) or 'tensorboard' (RUN/tensorboard/, for tensorboard --logdir; "
    'pip install "pyg-llminit[tensorboard]"). A resumed run keeps its trackers.')


def say(line: str) -> None:
    r"""Prints a line of a run on the terminal, unless ``--quiet`` hides it (an epoch's
    line; the run's ``console.log`` keeps it)."""
    if shown(line):
        click.echo(line)


def flag(param: str) -> str:
    return FLAGS.get(param, '--' + param.replace('_', '-'))


def parse_ints(option: str, value: str) -> List[int]:
    try:
        return [int(v) for v in value.split(',')]
    except ValueError:
        raise UserInputError(f"{option} takes comma-separated integers, got '{value}'") from None


def parse_topk(value: str) -> Tuple[int, ...]:
    ks = sorted(set(parse_ints('--topk', value)))
    if not ks or ks[0] < 1:
        raise UserInputError(f'--topk values must be positive, got {value}')
    return tuple(ks)


def parse_fanout(value: Optional[str]) -> Optional[Tuple[int, ...]]:
    return None if value is None else tuple(parse_ints('--fanout', value))


def parse_user_groups(value: str) -> Optional[Tuple[int, ...]]:
    return None if value == 'none' else tuple(parse_ints('--user-groups', value))


def parse_item_groups(value: str) -> Optional[Tuple[float, ...]]:
    if value == 'none':
        return None
    try:
        return tuple(float(v) for v in value.split(','))
    except ValueError:
        raise UserInputError(f"--item-groups takes two comma-separated shares such as "
                             f"0.2,0.5, or 'none'; got '{value}'") from None


__all__ = ['FLAGS', 'GRAPH_HELP', 'ROOT_HELP', 'DEVICE_HELP', 'ENCODER_HELP', 'flag',
           'parse_ints', 'parse_topk', 'parse_fanout', 'parse_user_groups',
           'parse_item_groups']
