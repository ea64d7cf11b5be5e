"""Data parallelism: launcher environments, the optimizer wrapping and broadcasts for HCCL
(against recording stand-ins for npu_bridge), data shards, and a real 2-process Horovod run."""
import importlib.util
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import datasets.base
import gan_train
from conftest import alive, cmdline, descendants, new_session
from tflib import checkpoints, device, distributed
from tflib.compat import tf
from tflib.config import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ascend_env(tmp_path, **overrides):
    table = tmp_path / 'rank_table_8p.json'
    table.write_text('{}')
    env = {'RANK_TABLE_FILE': str(table), 'RANK_ID': '3', 'RANK_SIZE': '8', 'DEVICE_ID': '3',
           'JOB_ID': '10087'}
    env.update(overrides)
    return env


def test_engine_comes_from_the_launcher(tmp_path):
    assert distributed.detect({}) == 'none'
    assert distributed.detect({'HOROVOD_RANK': '1'}) == 'horovod'
    assert distributed.detect(ascend_env(tmp_path)) == 'hccl'
    assert distributed.detect(ascend_env(tmp_path, RANK_SIZE='1')) == 'none'  # 1p scripts
    assert distributed.start('auto', 'cpu', {}) == distributed.SINGLE
    cluster = distributed.start('auto', 'npu', ascend_env(tmp_path))
    assert cluster == ('hccl', 3, 8, 3) and not cluster.is_chief and cluster.parallel


@pytest.mark.parametrize('overrides,message', [
    (dict(RANK_ID=''), 'set RANK_ID'),
    (dict(JOB_ID='', DEVICE_ID=''), 'set DEVICE_ID, JOB_ID'),
    (dict(RANK_SIZE='eight'), 'RANK_SIZE must be an integer'),
    (dict(RANK_ID='8'), 'RANK_ID 8 is outside 0..RANK_SIZE-1 \\(7\\)'),
    (dict(RANK_TABLE_FILE='/nowhere/table.json'), 'RANK_TABLE_FILE /nowhere/table.json: no '),
])
def test_bad_ascend_environments_are_named(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        distributed.start('hccl', 'npu', ascend_env(tmp_path, **overrides))


def test_engines_match_devices(tmp_path):
    with pytest.raises(ConfigError, match='hccl runs on Ascend NPUs'):
        distributed.start('hccl', 'cpu', ascend_env(tmp_path))
    with pytest.raises(ConfigError, match='on Ascend use hccl'):
        distributed.start('horovod', 'npu', {})
    with pytest.raises(ConfigError, match='--distributed must be one of'):
        distributed.start('mpi', 'cpu', {})


@pytest.mark.skipif(importlib.util.find_spec('horovod') is not None,
                    reason='Horovod is installed here')
def test_horovod_missing_is_explained():
    with pytest.raises(device.DeviceError, match='needs Horovod built with TensorFlow'):
        distributed.start('horovod', 'cpu', {})


def test_npu_ranks_average_gradients_inside_the_loss_scaling(tmp_path, fake_npu_bridge):
    """NPUDistributedOptimizer goes inside NPULossScaleOptimizer(is_distributed=True), which
    then agrees on overflows across ranks; one rank gets neither."""
    cluster = distributed.start('hccl', 'npu', ascend_env(tmp_path))
    adam = tf.train.AdamOptimizer(1.)
    wrapped = device.wrap_optimizer(distributed.average_gradients(adam, cluster), 'npu',
                                    is_distributed=cluster.parallel)
    assert isinstance(wrapped.inner._optimizer, fake_npu_bridge.DistributedOptimizer)
    assert wrapped.inner._optimizer.inner is adam
    assert [c[0] for c in fake_npu_bridge.calls] == ['allreduce', 'scale']
    assert fake_npu_bridge.calls[1][3] is True
    single = device.wrap_optimizer(distributed.average_gradients(adam, distributed.SINGLE),
                                   'npu')
    assert single.inner._optimizer is adam and fake_npu_bridge.calls[2][3] is False


def test_hccl_broadcast_sets_float_variables_from_rank_0(tmp_path, fake_npu_bridge):
    cluster = distributed.start('hccl', 'npu', ascend_env(tmp_path))
    with new_session() as session:
        weights = tf.Variable(np.ones(3, np.float32), name='W')
        step = tf.train.get_or_create_global_step()
        broadcast = distributed.broadcast_op(cluster, tf.global_variables())
        vote = distributed.stop_vote(cluster)
        session.run(tf.global_variables_initializer())
        session.run(broadcast)
        np.testing.assert_array_equal(session.run(weights), 2.)  # the stand-in adds 1
        assert session.run(vote[1], {vote[0]: 1}) == 1
    assert fake_npu_bridge.calls[0] == ('broadcast', ['W:0'], 0)  # not the int64 step
    assert step.dtype.base_dtype == tf.int64
    assert distributed.broadcast_op(distributed.SINGLE, [weights]) is None


def test_session_configs_of_ranks():
    npu = device.session_config('npu', local_rank=3)
    optimizer = npu.graph_options.rewrite_options.custom_optimizers[0]
    assert optimizer.parameter_map['hcom_parallel'].b
    assert 'hcom_parallel' not in device.session_config('npu').graph_options.rewrite_options \
        .custom_optimizers[0].parameter_map
    assert device.session_config('gpu', local_rank=1).gpu_options.visible_device_list == '1'
    for dev in ('cpu', 'gpu'):  # a Horovod rank's: its dependency optimizer deadlocked ranks
        rewrites = device.session_config(dev, local_rank=0).graph_options.rewrite_options
        assert rewrites.dependency_optimization == rewrites.OFF
        assert device.session_config(dev).graph_options.rewrite_options \
            .dependency_optimization != rewrites.OFF


def test_learning_rate_rules():
    assert distributed.lr_factor('none', 8) == 1.
    assert distributed.lr_factor('linear', 8) == 8.
    assert distributed.lr_factor('sqrt', 4) == 2.
    with pytest.raises(ConfigError, match='--lr_scaling must be one of'):
        distributed.lr_factor('cubic', 2)


def test_shards_split_the_data():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    source = datasets.base.ArraySource('digits', images, np.arange(10), 10)
    shards = [datasets.base.shard(source, rank, 3) for rank in range(3)]
    assert [len(s) for s in shards] == [4, 3, 3]
    seen = np.concatenate([s.read(np.arange(len(s)))[0].ravel() for s in shards])
    assert sorted(seen) == list(range(10))
    assert list(shards[1].read(np.array([0, 2]))[1]) == [1, 7]


HOROVODRUN = os.path.join(os.path.dirname(sys.executable), 'horovodrun')


def run_job(command, env, timeout=600):
    """(exit code, output) of a horovodrun job; past ``timeout`` the job is killed, ranks
    included (``kill_job``), and the test fails."""
    job = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    try:
        out = job.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        pytest.fail('the job did not end within {} s:\n{}'.format(timeout, kill_job(job)[-3000:]))
    return job.returncode, out.decode('utf-8', 'replace')


@pytest.mark.skipif(not os.path.exists(HOROVODRUN) and not os.environ.get('GANZOO_REQUIRE_HOROVOD'),
                    reason='no horovodrun here (.ci/run builds Horovod for the TF 1.15 leg)')
@pytest.mark.slow
def test_two_horovod_processes_train_as_one(tmp_path, capsys):
    """horovodrun -np 2 --gloo: both ranks end with identical weights, rank 0 alone writes, and
    the checkpoint resumes in a single process."""
    run, dumps = tmp_path / 'run', tmp_path / 'dumps'
    dumps.mkdir()
    flags = ['--preset', 'quickstart', '--DIM_G', '4', '--DIM_D', '4', '--batch_size', '8',
             '--LOG_STEP', '1', '--CHECKPOINT_STEP', '2', '--SAVE_SAMPLES_STEP', '2',
             '--EXPORT_AT_END', 'false', '--MAX_MINUTES', '0', '--device', 'cpu',
             '--output_path', str(run)]
    env = dict(os.environ, DUMP_DIR=str(dumps), PYTHONPATH=ROOT)
    code, out = run_job([HOROVODRUN, '-np', '2', '-H', 'localhost:2', '--gloo', sys.executable,
                         os.path.join(ROOT, 'test', 'horovod_job.py')] + flags +
                        ['--ITERS', '3', '--lr_scaling', 'linear'], env)
    assert code == 0, out[-3000:]
    assert 'data-parallel over 2 ranks (horovod): 2000 images each' in out
    assert 'learning rates x 2 (--lr_scaling linear)' in out
    steps = [line for line in out.splitlines() if 'step: ' in line and 'loss_d' in line]
    assert len(steps) == 3 and all(line.startswith('[0]') for line in steps), steps
    ranks = [np.load(str(dumps / 'rank{}.npz'.format(r))) for r in (0, 1)]
    assert sorted(ranks[0].files) == sorted(ranks[1].files)
    local = [key for key in ranks[0].files if '.moving_' in key]  # BN statistics of own data
    assert local and len(local) < len(ranks[0].files) // 4
    for key in set(ranks[0].files) - set(local):
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    assert int(ranks[0]['global_step']) == 3
    with open(str(run / 'log.csv')) as f:
        assert [line.split(',')[0] for line in f][1:] == ['1', '2', '3']
    assert len(os.listdir(str(run / 'tensorboard'))) == 1
    assert sorted(os.listdir(str(run / 'samples'))) == ['samples_000002.png',
                                                        'samples_000003.png']
    assert gan_train.main(flags + ['--ITERS', '4', '--distributed', 'none']) == 0
    out = capsys.readouterr().out
    assert 'resuming' in out and 'at step 3' in out and 'step: 4/4' in out


def kill_job(job):
    """SIGKILL a horovodrun job and every process under it at once (its ranks run in sessions
    of their own and would otherwise go only when Horovod's watchdog notices, seconds later);
    returns its output."""
    for pid in descendants(job.pid) + [job.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return job.communicate(timeout=60)[0].decode('utf-8', 'replace')


# What the dying-rank test allows: horovodrun ended the job 0.7 s (rank 1) and 2.5 s (rank 0)
# after the SIGKILL on this machine; the bound leaves room for a loaded CI machine.
DEATH_BOUND = 60.


@pytest.mark.skipif(not os.path.exists(HOROVODRUN) and not os.environ.get('GANZOO_REQUIRE_HOROVOD'),
                    reason='no horovodrun here (.ci/run builds Horovod for the TF 1.15 leg)')
@pytest.mark.parametrize('rank', [1, 0])
@pytest.mark.slow
def test_a_dying_rank_ends_the_job_and_a_rerun_resumes(tmp_path, rank):
    """SIGKILL one rank mid-run: horovodrun ends the whole job within DEATH_BOUND seconds,
    non-zero, naming the lost rank; no process is left; the last checkpoint loads, and the same
    command run again resumes from it to the end."""
    run = tmp_path / 'run'
    command = [HOROVODRUN, '-np', '2', '-H', 'localhost:2', '--gloo', sys.executable,
               os.path.join(ROOT, 'gan_train.py'), '--preset', 'quickstart', '--DIM_G', '4',
               '--DIM_D', '4', '--batch_size', '8', '--LOG_STEP', '1', '--CHECKPOINT_STEP', '2',
               '--SAVE_SAMPLES_STEP', '1000', '--EXPORT_AT_END', 'false', '--MAX_MINUTES', '0',
               '--device', 'cpu', '--ITERS', '200', '--output_path', str(run)]
    job = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        killed_rank_ends_the_job(job, run, rank)
    finally:
        if job.poll() is None:
            kill_job(job)
    meta = checkpoints.read_meta(str(run))
    reader = tf.train.load_checkpoint(meta['checkpoint'])
    assert int(reader.get_tensor('global_step')) == meta['step'] >= 4
    code, out = run_job(command, dict(os.environ, PYTHONPATH=ROOT))
    assert code == 0, out[-3000:]
    assert 'resuming' in out and 'at step {}'.format(meta['step']) in out and 'step: 200/200' in out


def killed_rank_ends_the_job(job, run, rank):
    """Once the run has a checkpoint at step 4, SIGKILL ``rank``: horovodrun ends, non-zero,
    within DEATH_BOUND seconds, naming it, and no rank is left."""
    deadline = time.time() + 300
    while not (os.path.exists(str(run / 'meta.json')) and
               checkpoints.read_meta(str(run))['step'] >= 4):
        if job.poll() is not None or time.time() > deadline:
            pytest.fail('no checkpoint at step 4 in time:\n{}'.format(kill_job(job)[-2000:]))
        time.sleep(.2)
    ranks = []
    for pid in descendants(job.pid):
        try:
            with open('/proc/{}/environ'.format(pid), 'rb') as f:
                environ = dict(v.split(b'=', 1) for v in f.read().split(b'\0') if b'=' in v)
        except OSError:
            continue
        if b'HOROVOD_RANK' in environ and 'gan_train.py' in cmdline(pid):
            ranks.append((int(environ[b'HOROVOD_RANK']), pid))
    assert sorted(r for r, _ in ranks) == [0, 1], ranks
    ranks = dict(ranks)
    started = time.time()
    os.kill(ranks[rank], signal.SIGKILL)
    out = job.communicate(timeout=DEATH_BOUND * 2)[0].decode('utf-8', 'replace')
    assert time.time() - started < DEATH_BOUND
    assert job.returncode != 0
    assert 'Process name: {}'.format(rank) in out and 'Exit code: 137' in out, out[-2000:]
    assert not any(alive(p) for p in ranks.values())
