"""A comparison's plan and its folder: the arms (backbone x initialisation), the seeds, each
run's config, the settings every run shares (recorded in the folder's ``spec.json``, so an
interrupted comparison resumes and a different one is refused) and which runs are finished.
:func:`~pyg_llminit.experiment.compare` trains what the plan leaves to do."""
import dataclasses
import re
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from .. import catalog
from ..errors import invalid
from ..io import read_json
from .config import ExperimentConfig
from .runs import RunFolder

#: The split seed of a comparison whose base config names none: every arm and seed must be
#: scored on one split.
SPLIT_SEED = 2020


class Arm(NamedTuple):
    r"""One compared setting: a backbone, an initialisation and, for an LLMInit arm of a
    comparison of text models, the text model (``None``: the comparison's own
    ``--encoder``)."""
    model: str
    init: str
    encoder: Optional[str] = None

    @property
    def name(self) -> str:
        return f'{self.model}/{self.init}' + (f'@{self.encoder}' if self.encoder else '')

    def folder(self, seed: int) -> str:
        tag = f'@{encoder_label(self.encoder)}' if self.encoder else ''
        return f'{self.model}-{self.init}{tag}-seed{seed}'

    @classmethod
    def of_folder(cls, name: str) -> Optional[Tuple['Arm', int]]:
        r"""The arm and seed a run folder's name encodes (:meth:`folder`'s inverse for
        preset text models; model names hold no hyphen, inits may); ``None`` for any other
        name."""
        match = re.fullmatch(r'([^-]+)-([^@]+?)(?:@(.+))?-seed(\d+)', name)
        return (cls(match[1], match[2], match[3]), int(match[4])) if match else None


def encoder_label(encoder: str) -> str:
    r"""A text model's name as a folder name: a preset as it is, a folder by its last
    part, a Hugging Face id ``org/name`` as ``org--name``."""
    path = Path(encoder).expanduser()
    name = path.name if path.exists() else encoder
    return re.sub(r'[^A-Za-z0-9._-]+', '--', name).strip('-') or 'encoder'


def check_arm_names(models: Sequence[str], inits: Sequence[str]) -> None:
    r"""Refuses an empty, unknown or repeated backbone or init."""
    for name, values, known in (('models', models, catalog.MODELS),
                                ('inits', inits, catalog.INITS)):
        if not values:
            raise invalid(name, 'is empty')
        for value in values:
            if value not in known:
                raise invalid(name, f"'{value}' is unknown (choose from {', '.join(known)})")
        if len(set(values)) < len(values):
            raise invalid(name, f"lists a value twice: {','.join(values)}")


def plan_arms(models: Sequence[str], inits: Sequence[str], baseline: Optional[str] = None,
              encoders: Sequence[str] = (), encoder: Optional[str] = None
              ) -> Tuple[List[Arm], Dict[Arm, Arm]]:
    r"""The arms ``models x inits`` (each LLMInit init once per text model of
    :obj:`encoders`) and each one's reference arm.

    Args:
        models (Sequence[str]): Backbones (see :data:`~pyg_llminit.catalog.MODELS`).
        inits (Sequence[str]): Initialisations (see :data:`~pyg_llminit.catalog.INITS`).
        baseline (str, optional): The reference: an init (``'none'``, the default: each
            backbone against its own arm of that init) or one arm ``'model/init'`` for all.
        encoders (Sequence[str]): Text models to compare; empty: only :obj:`encoder`.
        encoder (str, optional): The comparison's own text model: its arms carry no
            encoder (their names and folders are those of a one-model comparison).

    Returns:
        ``(arms, baseline_of)``; ``baseline_of`` maps every arm to its reference.
    """
    if len(set(encoders)) < len(encoders):
        raise invalid('encoders', f"lists a text model twice: {','.join(encoders)}")
    labels = [encoder_label(e) for e in encoders]
    if len(set(labels)) < len(labels):
        raise invalid('encoders', f"names two text models alike: {','.join(encoders)}")
    check_arm_names(models, inits)
    arms = [Arm(m, i, None if e == encoder else e) for m in models for i in inits
            for e in ([None] if i == 'none' or not encoders else encoders)]
    if len(arms) < 2:
        raise invalid('inits', f'a comparison needs at least two arms, got {arms[0].name}')
    reference = baseline or 'none'
    if '/' in reference:
        model, _, rest = reference.partition('/')
        init, _, named = rest.partition('@')
        arm = Arm(model, init, named or None)
        if arm not in arms:
            raise invalid('baseline', f"'{reference}' is not among the arms "
                          f"({', '.join(a.name for a in arms)})")
        return arms, {a: arm for a in arms}
    if reference not in inits:
        raise invalid('baseline', f"'{reference}' is not among the inits ({','.join(inits)}); "
                      "add it to them or name another baseline")
    return arms, {a: Arm(a.model, reference) for a in arms}


def check_seeds(seeds: Sequence[int]) -> List[int]:
    seeds = list(seeds)
    if not seeds:
        raise invalid('seeds', 'is empty')
    if len(set(seeds)) < len(seeds):
        raise invalid('seeds', f"lists a seed twice: {','.join(map(str, seeds))}")
    return seeds


def arm_config(base: ExperimentConfig, arm: Arm, seed: int) -> ExperimentConfig:
    r"""The run of :obj:`arm` with :obj:`seed`: the base config with the arm's backbone
    and init, the seed, and the comparison's one split seed."""
    config = dataclasses.replace(
        base, model=arm.model, init=arm.init, embedding_file=None,
        encoder=arm.encoder or base.encoder,
        split_seed=SPLIT_SEED if base.split_seed is None else base.split_seed,
        train=dataclasses.replace(base.train, seed=seed))
    if config.uses_text:  # a cold-item split scores new items from text in every arm
        config = dataclasses.replace(config, embedding_file=base.embedding_file)
    return config


def shared_settings(base: ExperimentConfig) -> Dict:
    r"""What every run of a comparison shares (the base config without backbone, init and
    seed): a folder holding a comparison with other settings is refused."""
    values = base.to_dict()
    values['split_seed'] = SPLIT_SEED if base.split_seed is None else base.split_seed
    for key in ('model', 'init'):
        values.pop(key)
    values['train'].pop('seed')
    values['train'].pop('device')  # the machine, not the experiment
    return values


def with_defaults(settings: Dict) -> Dict:
    r"""The shared settings of an older comparison (its ``spec.json`` or ``compare.json``)
    with each setting added since then at its default, the behaviour it had before the
    setting existed (as :meth:`ExperimentConfig.from_dict` reads an older run's config)."""
    def fill(values: Dict, defaults: Dict) -> Dict:
        out = dict(values)
        for key, default in defaults.items():
            if key not in out:
                out[key] = default
            elif isinstance(default, dict) and default and isinstance(out[key], dict):
                out[key] = fill(out[key], default)
        return out
    return fill(settings, shared_settings(ExperimentConfig()))


def check_out(out: Path, settings: Dict) -> None:
    spec = out / 'spec.json'
    if spec.is_file():
        before = with_defaults(read_json(spec, 'settings'))
        if before != settings:
            keys = sorted(_differences(before, settings))
            raise invalid('out', f'{out} holds a different comparison (other '
                          f"{', '.join(keys)}); choose another folder")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise invalid('out', f'{out} holds files but no comparison; choose another folder')


def _differences(a: Dict, b: Dict, prefix: str = '') -> List[str]:
    keys = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            keys += _differences(x, y, f'{prefix}{key}.')
        elif x != y:
            keys.append(prefix + key)
    return keys


def finished(folder: Path, config: ExperimentConfig) -> bool:
    r"""Whether :obj:`folder` holds a finished run of :obj:`config` (a finished run of
    another config there is refused)."""
    if not (folder / RunFolder.RESULTS).is_file():
        return False
    recorded = RunFolder(folder).read_config(finished=False)  # weights are not committed
    expected = dataclasses.replace(config, train=dataclasses.replace(
        config.train, device=recorded.train.device))
    if dataclasses.replace(recorded, embedding_dim=config.embedding_dim) != expected:
        raise invalid('out', f'{folder} holds a run of another config; choose another '
                      'folder')
    return True


__all__ = ['Arm', 'encoder_label', 'SPLIT_SEED', 'check_arm_names', 'plan_arms', 'check_seeds',
           'arm_config', 'shared_settings', 'with_defaults', 'check_out', 'finished']
