"""Fair tuning: every arm of a comparison gets the same search over its training knobs, on
validation only, so that "LLMInit beats random init" can be checked against a baseline tuned
as carefully (``pyg-llminit tune``, then ``compare --params DIR``).

Each arm (backbone x init) has its own Optuna study (TPE sampler, seeded the same for every
arm, so their first, random trials try the same settings) over :data:`SPACE` plus its
backbone's own knobs (:data:`MODEL_SPACE`), for the same number of trials, each a full
training with early stopping on the validation metric. The studies live in the folder's
``optuna.journal`` (Optuna's journal file storage), so running the same command again
resumes: finished trials are kept, one cut short is tried again. The folder holds:

- ``spec.json``: the shared settings, the search space and the sampler seed (a folder of
  another graph or setting is refused);
- ``trials/<arm>-trial<N>/``: each trial's ordinary run folder;
- ``tuned.json`` and ``tune.md``: each arm's best setting by validation score, its
  validation score and the trials it took; test metrics are shown for information and never
  used to choose.
"""
import dataclasses
import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple, Union

from .. import catalog
from ..errors import DataError, TrainingDiverged, invalid, require
from ..io import atomic_path, exclusive, read_json, write_json
from .config import ExperimentConfig
from .plan import Arm, check_arm_names, check_out, shared_settings

#: Searched for every backbone, and each backbone's own knobs (declared in the catalog,
#: which the command line's help reads too).
SPACE, MODEL_SPACE = catalog.TUNE_SPACE, catalog.MODEL_TUNE_SPACE
TUNED = 'tuned.json'
Log = Callable[[str], None]


def search_space(model: str) -> Dict[str, Tuple[float, float, bool]]:
    r"""What is searched for :obj:`model`: :data:`SPACE` and its :data:`MODEL_SPACE`."""
    return {**SPACE, **MODEL_SPACE.get(model, {})}


def with_params(config: ExperimentConfig, params: Dict[str, float]) -> ExperimentConfig:
    r""":obj:`config` with a trial's (or a tuned arm's) values: ``lr`` into its training
    config, ``reg_weight`` into the experiment, any other into its model options."""
    params = dict(params)
    train = dataclasses.replace(config.train, lr=params.pop('lr', config.train.lr))
    reg = params.pop('reg_weight', config.reg_weight)
    return dataclasses.replace(config, train=train, reg_weight=reg,
                               model_options={**config.model_options, **params})


def tune(base: ExperimentConfig, models: Sequence[str], inits: Sequence[str], trials: int,
         out: Union[str, Path], sampler_seed: int = 0, root: Union[str, None] = None,
         log: Log = print) -> Dict:
    r"""Tunes every arm ``models x inits`` with :obj:`trials` trials each (see the module's
    docstring) and writes ``tuned.json``.

    Args:
        base (ExperimentConfig): The shared graph, split, sizes, budget and stopping (its
            ``lr``, ``reg_weight`` and model options are what is searched).
        models, inits (Sequence[str]): The arms.
        trials (int): Trials per arm (at least 1); a later call with more adds trials.
        out (str or Path): The tuning folder.
        sampler_seed (int): Seed of every arm's TPE sampler.
        root (str, optional): Cache folder for processed graphs.
        log (callable): Receives the statistics and one line per trial.

    Returns:
        The contents of ``tuned.json``.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise invalid('trials', f'must be a positive integer, got {trials!r}')
    require('optuna', 'tune', 'pyg-llminit tune')  # before anything is written
    check_arm_names(models, inits)
    arms = [Arm(m, i) for m in models for i in inits]
    base = base.with_absolute_paths()
    out = Path(out)
    with exclusive(out, 'out'):
        spec = _checked_spec(out, {'settings': shared_settings(base),
                                   'sampler_seed': sampler_seed,
                                   'space': {a.model: search_space(a.model) for a in arms}})
        for config in (dataclasses.replace(base, model=a.model, init=a.init) for a in arms):
            config.check()
        write_json(out / 'spec.json', spec)
        storage = _storage(out)
        for arm in arms:
            _tune_arm(base, arm, trials, out, storage, sampler_seed, root, log)
        return _write_summary(out, arms, storage, base)


def _checked_spec(out: Path, spec: Dict) -> Dict:
    r""":obj:`spec` merged with the folder's earlier one (arms of other backbones may be
    added); another graph, split, budget, sampler seed or search space is refused."""
    check_out(out, spec['settings'])
    if not (out / 'spec.json').is_file():
        return spec
    before = read_json(out / 'spec.json')
    space = {**before.get('space', {}), **spec['space']}
    to_lists = {m: {k: list(v) for k, v in s.items()} for m, s in spec['space'].items()}
    if before.get('sampler_seed') != spec['sampler_seed'] or any(
            before.get('space', {}).get(m, s) != s for m, s in to_lists.items()):
        raise invalid('out', f'{out} holds a tuning with another sampler seed or search '
                      'space; choose another folder')
    return {**spec, 'space': space}


def _storage(out: Path):
    import optuna
    from optuna.storages.journal import JournalFileBackend
    out.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(out / 'optuna.journal')))


def _tune_arm(base: ExperimentConfig, arm: Arm, trials: int, out: Path, storage,
              sampler_seed: int, root, log: Log) -> None:
    import optuna
    from optuna.trial import TrialState
    from .pipeline import run_experiment
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=arm.name, storage=storage, direction='maximize',
                                sampler=optuna.samplers.TPESampler(seed=sampler_seed),
                                load_if_exists=True)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)  # a process killed mid-trial
    space = search_space(arm.model)
    config = dataclasses.replace(base, model=arm.model, init=arm.init)
    while len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < trials:
        trial = study.ask()
        params = {name: trial.suggest_float(name, low, high, log=log_scale)
                  for name, (low, high, log_scale) in space.items()}
        folder = out / 'trials' / f'{arm.model}-{arm.init}-trial{trial.number}'
        shown = ', '.join(f'{k} {v:.3g}' for k, v in params.items())
        log(f'{arm.name} trial {trial.number}: {shown}')
        try:
            results = run_experiment(with_params(config, params), folder, root,
                                     log=lambda line: None, overwrite=True)
        except TrainingDiverged as e:  # a setting that diverged: a failed trial, not a stop
            study.tell(trial, state=TrialState.FAIL)
            log(f'{arm.name} trial {trial.number}: failed ({e})')
            continue
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        score = results['valid'][base.train.monitor]
        trial.set_user_attr('test', results['test'])
        trial.set_user_attr('best_epoch', results['best_epoch'])
        study.tell(trial, score)
        log(f'{arm.name} trial {trial.number}: valid {base.train.monitor} {score:.4f} '
            f'(best so far {study.best_value:.4f})')


def _write_summary(out: Path, arms: List[Arm], storage, base: ExperimentConfig) -> Dict:
    import optuna
    from optuna.trial import TrialState
    monitor = base.train.monitor
    summary: Dict[str, Any] = {'monitor': monitor, 'arms': {}}
    rows = ['| arm | trials | best valid ' + monitor + ' | test ' + monitor + ' | setting |',
            '| --- | --- | --- | --- | --- |']
    for arm in arms:
        study = optuna.load_study(study_name=arm.name, storage=storage)
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        best = study.best_trial
        summary['arms'][arm.name] = {
            'model': arm.model, 'init': arm.init, 'params': best.params,
            'trial': best.number, 'valid': best.value, 'test': best.user_attrs['test'],
            'trials': len(done),
            'all': [{'trial': t.number, 'params': t.params, 'valid': t.value}
                    for t in done]}
        setting = ', '.join(f'{k} {v:.3g}' for k, v in best.params.items())
        rows.append(f'| {arm.name} | {len(done)} | {best.value:.4f} | '
                    f'{best.user_attrs["test"][monitor]:.4f} | {setting} |')
    write_json(out / TUNED, summary)
    with atomic_path(out / 'tune.md') as tmp:
        tmp.write_text('# Tuning\n\nEach arm\'s best trial by validation '
                       f'{monitor} (test shown, never used to choose).\n\n' + '\n'.join(rows)
                       + '\n')
    return summary


def tuned_params(folder: Union[str, Path], base: ExperimentConfig, arms: Sequence[Arm]
                 ) -> Dict[Arm, Dict[str, float]]:
    r"""Each arm's best setting from a tuning folder (``compare --params``), checked to be
    a tuning of the same graph and settings, with every arm tuned.

    Raises:
        UserInputError: not a tuning folder, one of another graph or setting, or an arm it
            did not tune.
    """
    folder = Path(folder)
    if not (folder / TUNED).is_file():
        raise invalid('params', f'{folder}: no {TUNED} (not a finished pyg-llminit tune '
                      'folder)')
    tuned = read_json(folder / TUNED)
    spec = read_json(folder / 'spec.json')
    settings = shared_settings(base)
    # what tuning searched may differ; everything else must be the same experiment
    ignore = {'reg_weight', 'model_options'}
    theirs = {k: v for k, v in spec['settings'].items() if k not in ignore}
    ours = {k: v for k, v in settings.items() if k not in ignore}
    theirs['train'] = {k: v for k, v in theirs['train'].items() if k != 'lr'}
    ours['train'] = {k: v for k, v in ours['train'].items() if k != 'lr'}
    if theirs != ours:
        keys = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise DataError(f'--params {folder} was tuned with other settings '
                        f"({', '.join(keys)}): tune again or compare with those",
                        param='params')
    missing = [a.name for a in arms if a.name not in tuned['arms']]
    if missing:
        raise invalid('params', f'{folder} tuned no arm {", ".join(missing)}')
    params = {a: tuned['arms'][a.name]['params'] for a in arms}
    for arm, values in params.items():
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values.values()):
            raise DataError(f'--params {folder}: {arm.name} has a non-finite setting',
                            param='params')
    return params


__all__ = ['SPACE', 'MODEL_SPACE', 'search_space', 'with_params', 'tune', 'tuned_params']
