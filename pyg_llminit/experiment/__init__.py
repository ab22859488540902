"""Experiments: one config (:class:`ExperimentConfig`), one pipeline (:func:`prepare`,
:func:`create_model`, :func:`run_experiment`) and the run folder it writes
(:class:`RunFolder`) and loads back (:func:`load_run`, :func:`evaluate_run`); comparisons
of several arms and seeds (:func:`compare`)."""
from .compare import compare
from .config import ExperimentConfig, apply_protocol
from .pipeline import Prepared, create_model, prepare, resume_run, run_experiment
from .loading import Run, evaluate_run, load_run
from .runs import RunFolder

__all__ = ['ExperimentConfig', 'apply_protocol', 'Prepared', 'prepare', 'create_model',
           'run_experiment',
           'resume_run',
           'RunFolder', 'Run', 'load_run', 'evaluate_run', 'compare']
