"""Faults a long run meets: SIGKILL at random moments, SIGTERM / SIGINT, weights that go NaN,
and overflowing steps under loss scaling."""
import csv
import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import gan_train
from conftest import new_session
from tflib import checkpoints, device, params
from tflib.compat import IS_TF2, tf
from zoo import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = ['--preset', 'quickstart', '--DIM_G', '4', '--DIM_D', '4', '--batch_size', '8',
         '--N_CRITIC', '1', '--LOG_STEP', '1', '--CHECKPOINT_STEP', '1', '--SAVE_SAMPLES_STEP',
         '3', '--EXPORT_AT_END', 'false', '--MAX_MINUTES', '0', '--device', 'cpu']


class Training(object):
    """gan_train.py in a subprocess, its output collected by a thread."""

    def __init__(self, run, *flags):
        self.lines = []
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, 'gan_train.py')] + QUICK +
            ['--output_path', str(run)] + list(flags), cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True)
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout))
        self.reader.start()

    def wait_for_training(self, timeout=120):
        """Until the step loop has begun (True) or the process ended (False)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(line.startswith('step: ') for line in list(self.lines)):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(.05)
        raise AssertionError('no training after {} s: {}'.format(timeout, self.lines[-5:]))

    def finish(self, timeout=300):
        code = self.process.wait(timeout)
        self.reader.join()
        return code, ''.join(self.lines)


def log_rows(run):
    with open(str(run / 'log.csv')) as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_a_checkpoint(tmp_path):
    """Killed 8 times while stepping, checkpointing every step and writing grids; restarted
    with the same command each time, the run ends as an uninterrupted one would."""
    run, iters, rng, kills = tmp_path / 'run', 60, random.Random(0), 0
    while True:
        job = Training(run, '--ITERS', str(iters))
        if kills < 8 and job.wait_for_training():
            time.sleep(rng.uniform(0., 1.))
            job.process.send_signal(signal.SIGKILL)
            code, out = job.finish()
            if code == 0:  # it finished before the kill
                break
            kills += 1
            meta = checkpoints.read_meta(str(run))  # names a complete checkpoint, or none
            if meta:
                reader = tf.train.load_checkpoint(meta['checkpoint'])
                assert int(reader.get_tensor('global_step')) == meta['step']
            continue
        code, out = job.finish()
        assert code == 0, out[-2000:]
        break
    assert kills >= 5, 'the run finished too early to be killed often'
    meta = checkpoints.read_meta(str(run))
    assert meta['step'] == iters
    rows = log_rows(run)
    assert [int(r['step']) for r in rows] == list(range(1, iters + 1))
    # The learning rate decays linearly over ITERS across all the restarts.
    np.testing.assert_allclose([float(r['learning_rate']) for r in rows],
                               [1e-3 * (1 - s / float(iters)) for s in range(1, iters + 1)],
                               rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
@pytest.mark.slow
def test_sigterm_and_sigint_checkpoint_and_exit_cleanly(tmp_path, signum):
    run = tmp_path / 'run'
    job = Training(run, '--ITERS', '100000', '--CHECKPOINT_STEP', '1000')
    assert job.wait_for_training()
    job.process.send_signal(signum)
    code, out = job.finish()
    assert code == 0, out[-2000:]
    stopped = [l for l in out.splitlines() if l.startswith('stopped at step')]
    assert stopped and 'signal {}'.format(int(signum)) in stopped[0]
    step = int(stopped[0].split()[3])
    assert checkpoints.read_meta(str(run))['step'] == step and 'Traceback' not in out


@pytest.mark.slow
def test_nan_weights_never_reach_a_checkpoint(tmp_path, capsys, monkeypatch):
    """A generator weight turned NaN after step 3: the run stops with the step-2 checkpoint
    as the last, and says so."""
    train_step = loop.Loop.train_step

    def poisoned(run, fetch_metrics):
        values = train_step(run, fetch_metrics)
        if run.step == 3:
            weight = params.params_with_name('Generator.Input')[0]
            weight.load(np.full(weight.shape.as_list(), np.nan, np.float32), run.session)
        return values

    monkeypatch.setattr(loop.Loop, 'train_step', poisoned)
    run = tmp_path / 'run'
    code = gan_train.main(QUICK + ['--ITERS', '6', '--CHECKPOINT_STEP', '2', '--output_path',
                                   str(run)])
    err = capsys.readouterr().err
    assert code == 2
    assert 'step 3: the weights are not finite' in err and 'model.ckpt-2' in err
    assert 'Traceback' not in err
    meta = checkpoints.read_meta(str(run))
    assert meta['step'] == 2
    reader = tf.train.load_checkpoint(meta['checkpoint'])
    for key in reader.get_variable_to_shape_map():
        assert np.all(np.isfinite(reader.get_tensor(key))), key
    assert os.listdir(str(run / 'samples')) == []  # the step-3 grid (NaN) was not written


@pytest.fixture
def gpu_loss_scaling():
    yield
    (tf.mixed_precision if IS_TF2 else tf.train.experimental) \
        .disable_mixed_precision_graph_rewrite()


def test_loss_scaling_skips_an_overflowing_step_and_backs_off(gpu_loss_scaling):
    """With dynamic loss scaling (the GPU --mixed_precision wrapper; NPU's manager acts
    alike), an Inf gradient leaves the weights alone and halves the scale; training then
    goes on."""
    with new_session() as session:
        weight = tf.Variable(1., name='W')
        scale = tf.placeholder(tf.float32, [])
        optimizer = device.wrap_optimizer(tf.train.GradientDescentOptimizer(.1), 'gpu', True)
        step = optimizer.minimize(weight * scale)
        session.run(tf.global_variables_initializer())
        loss_scale = [v for v in tf.global_variables() if 'loss_scale' in v.op.name.lower()
                      and v.dtype.base_dtype == tf.float32][0]
        before = session.run(loss_scale)
        session.run(step, {scale: np.inf})
        assert session.run(weight) == 1. and session.run(loss_scale) == before / 2
        session.run(step, {scale: 1.})
        assert session.run(weight) == pytest.approx(.9)


@pytest.mark.slow
def test_same_seed_same_losses(tmp_path, capsys):
    """Two runs of one command on one machine and TF log the same losses (the graph-level seed,
    stateless per-step draws, and a data order fixed by --seed)."""
    logs = []
    for name in ('first', 'second'):
        assert gan_train.main(QUICK + ['--ITERS', '4', '--seed', '7', '--output_path',
                                       str(tmp_path / name)]) == 0
        logs.append([{k: v for k, v in row.items() if k not in ('sec/step', 'fps', 'eta')}
                     for row in log_rows(tmp_path / name)])
    capsys.readouterr()
    assert len(logs[0]) == 4 and logs[0] == logs[1]
    assert gan_train.main(QUICK + ['--ITERS', '4', '--seed', '8', '--output_path',
                                   str(tmp_path / 'other')]) == 0
    assert log_rows(tmp_path / 'other')[0]['loss_d'] != logs[0][0]['loss_d']
