"""Options from a config file and ``--model-option KEY=VALUE`` pairs.

A config file (TOML, or JSON by its ``.json`` suffix) sets any option of ``train`` by its
name, and the model's hyper-parameters in a ``[model_options]`` table; options given on the
command line win::

    model = "sgl"
    epochs = 100
    init = "variance"

    [model_options]
    ssl_weight = 0.1
    drop_ratio = 0.2

``--model-option`` pairs on the command line override the table key by key.
"""
import ast
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List

import click

from ..errors import UserInputError
from .options import flag

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as a package
    import tomli as tomllib  # type: ignore[no-redef]


CONFIG_MODEL_OPTIONS = 'pyg_llminit.config_model_options'
#: Settings every backbone has, set by their own flags.
SHARED = ('embedding_dim', 'num_layers', 'reg_weight')


def parse_model_options(items: Iterable[str]) -> Dict[str, Any]:
    r"""``['ssl_tau=0.2', 'cl_layer=1']`` -> ``{'ssl_tau': 0.2, 'cl_layer': 1}`` (values read
    as Python literals, else kept as strings)."""
    options: Dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition('=')
        key = key.strip().replace('-', '_')
        if not sep or not key.isidentifier():
            raise UserInputError(f"--model-option takes KEY=VALUE, got '{item}'")
        if key in SHARED:
            raise UserInputError(f"--model-option {key}: set it with {flag(key)} instead")
        try:
            options[key] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            options[key] = raw.strip()
    return options


def model_options_of(ctx: click.Context, cli_items: Iterable[str]) -> Dict[str, Any]:
    r"""The model's hyper-parameters: the config file's ``[model_options]`` table, updated
    by the command line's ``--model-option`` pairs."""
    return parse_model_options([*ctx.meta.get(CONFIG_MODEL_OPTIONS, []), *cli_items])


def read_config(path: Path) -> Dict[str, Any]:
    r"""The options of a TOML or JSON config file as a dict."""
    if path.exists() and not path.is_file():  # a folder, or a pipe that would hang
        raise UserInputError(f'cannot read config file {path}: not a regular file')
    try:
        text = path.read_text()
    except OSError as err:
        raise UserInputError(f'cannot read config file {path}: {err.strerror}') from None
    try:
        data = json.loads(text) if path.suffix == '.json' else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        kind = 'JSON' if path.suffix == '.json' else 'TOML'
        raise UserInputError(f'config file {path} is not valid {kind}: {err}') from None
    if not isinstance(data, dict):
        raise UserInputError(f'config file {path} must hold a table of options')
    return data


def _check_type(path: Path, key: str, param: click.Parameter, value: Any) -> None:
    r"""A config value must have its option's type as written: ``epochs = 1.7`` is an
    error, not 1 epoch (click would convert it silently)."""
    kind = param.type
    if isinstance(param, click.Option) and param.is_flag:
        ok, want = isinstance(value, bool), 'true or false'
    elif isinstance(kind, click.types.IntParamType):
        ok, want = isinstance(value, int) and not isinstance(value, bool), 'an integer'
    elif isinstance(kind, click.types.FloatParamType):
        ok, want = (isinstance(value, (int, float)) and not isinstance(value, bool),
                    'a number')
    else:  # strings, choices, paths, comma-separated lists (given as arrays)
        ok, want = isinstance(value, str), 'a string'
    if not ok:
        raise UserInputError(f'config file {path}: {key} must be {want}, got {value!r}')


def config_callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    r"""Eager ``--config`` callback: the file's options become the command's defaults."""
    if not value:
        return value
    path = Path(value)
    data = read_config(path)
    known = {p.name: p for p in ctx.command.params if p.name != 'config'}
    if isinstance(data.get('train'), dict):  # a run folder's config.json: train it again
        data = run_config_options(data, known, path)
    defaults: Dict[str, Any] = {}
    for key, val in data.items():
        name = key.replace('-', '_')
        if name == 'model_options':
            if not isinstance(val, dict):
                raise UserInputError(f'config file {path}: model_options must be a table')
            # merged key by key under --model-option pairs (see model_options_of)
            ctx.meta[CONFIG_MODEL_OPTIONS] = [f'{k}={v!r}' for k, v in val.items()]
        elif name not in known:
            raise UserInputError(f"config file {path}: unknown option '{key}'")
        else:
            value = ','.join(map(str, val)) if isinstance(val, list) else val
            _check_type(path, key, known[name], value)
            defaults[name] = value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def run_config_options(data: Dict[str, Any], known: Dict[str, click.Parameter],
                       path: Path) -> Dict[str, Any]:
    r"""A run folder's ``config.json`` (library names, the training settings nested under
    ``train``) as the command's options, so that ``train --config RUN/config.json`` trains
    that run again: each setting under the flag that sets it; a setting no flag sets must
    have its default."""
    from dataclasses import asdict

    from ..experiment import ExperimentConfig
    defaults = asdict(ExperimentConfig())
    defaults.update(defaults.pop('train'))
    flat = {k: v for k, v in data.items() if k != 'train'}
    flat.update(data['train'])
    options: Dict[str, Any] = {}
    unknown = sorted(set(flat) - set(defaults))
    if unknown:  # a run of another version: its settings would be dropped silently
        raise UserInputError(f"config file {path}: unknown setting '{unknown[0]}' (a run of "
                             'another pyg-llminit version? this one has no such setting)')
    for key, value in flat.items():
        name = flag(key).lstrip('-').replace('-', '_')
        if key == 'model_options' or (name in known and value is not None):
            options[key if key == 'model_options' else name] = value
        elif name in known and key in ('user_groups', 'item_groups'):
            options[name] = 'none'  # recorded as null: the run had no groups
        elif name not in known and value != defaults.get(key, value):
            raise UserInputError(f'config file {path}: {key} {value!r} is not set by any '
                                 'option of this command')
    return options


__all__: List[str] = ['parse_model_options', 'model_options_of', 'read_config', 'config_callback',
                      'run_config_options']
