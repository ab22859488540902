"""train --resume: a run killed mid-way ends with the results of one never interrupted."""
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from pyg_llminit.experiment import RunFolder


def _train(args, env):
    return subprocess.run([sys.executable, '-m', 'pyg_llminit', 'train', *args],
                          capture_output=True, text=True, env=env, timeout=600)


def _comparable(results):
    return {k: v for k, v in results.items() if k not in ('train_seconds', 'seconds_per_epoch')}


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_results_of_an_uninterrupted_one(csv_graph, tmp_path):
    env = {**os.environ, 'PYG_LLMINIT_HOME': str(tmp_path / 'home'), 'PYTHONUNBUFFERED': '1'}
    args = ['--graph', str(csv_graph), '--model', 'sgl', '--dim', '8', '--batch-size', '16',
            '--epochs', '8', '--warmup', '0', '--patience', '100']
    whole = _train([*args, '--out', str(tmp_path / 'whole')], env)
    assert whole.returncode == 0, whole.stderr
    expected = json.loads((tmp_path / 'whole' / 'results.json').read_text())
    assert expected['epochs_run'] == 8  # long enough to be killed in the middle

    out = tmp_path / 'killed'
    proc = subprocess.Popen([sys.executable, '-m', 'pyg_llminit', 'train', *args,
                             '--out', str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    watchdog = threading.Timer(300, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            if line.startswith('epoch   3'):
                proc.send_signal(signal.SIGKILL)  # a crash: no clean-up of any kind
                break
        proc.wait(timeout=60)
    finally:
        watchdog.cancel()
    assert proc.returncode == -signal.SIGKILL
    assert (out / RunFolder.LAST).is_file() and not (out / RunFolder.RESULTS).exists()

    resumed = _train(['--resume', str(out)], env)
    assert resumed.returncode == 0, resumed.stderr
    assert 'resuming after epoch' in resumed.stdout
    results = json.loads((out / 'results.json').read_text())
    assert _comparable(results) == _comparable(expected)
    history = json.loads((out / 'history.json').read_text())
    reference = json.loads((tmp_path / 'whole' / 'history.json').read_text())
    assert [(h['loss'], h['val']) for h in history] == \
        [(h['loss'], h['val']) for h in reference]
    assert not (out / RunFolder.LAST).exists()  # finished: nothing left to resume


def test_resume_refuses_other_options_and_finished_runs(finished_run, cli_error):
    out, graph, root = finished_run
    cli_error(['train', '--resume', str(out), '--lr', '0.1'],
              'error: --resume continues a run with its own config.json: drop --lr')
    cli_error(['train', '--resume', str(out), '--root', str(root)],
              f'error: {out}: the run is finished')


def test_checkpoint_keys_are_what_the_trainer_writes(small_graph):
    from pyg_llminit.models import LightGCN
    from pyg_llminit.training import TrainConfig, Trainer
    from pyg_llminit.training.stopping import EarlyStopping
    from pyg_llminit.training.trainer import CHECKPOINT_KEYS
    from pyg_llminit.transforms.split import LeaveOneOutSplit
    train, val, test = LeaveOneOutSplit()(small_graph)
    trainer = Trainer(LightGCN(small_graph['user'].num_nodes, small_graph['item'].num_nodes,
                               embedding_dim=4), train, val, test,
                      TrainConfig(epochs=1, topk=(5,), monitor='ndcg@5', device='cpu'))
    trainer.start()
    checkpoint = trainer.checkpoint(1, EarlyStopping(1, 0, 1, 'strict'), {}, 0.0)
    assert tuple(checkpoint) == CHECKPOINT_KEYS
