"""The NPU path run for real, on test/npu_emulator: ``--device npu`` trains through the loss-scale
wrapper, the loop op and the NpuOptimizer session config as the adapter's source defines them,
on this CPU, and must end where ``--device cpu`` ends (same seed and layout) when nothing
overflows; with overflows injected, skipped updates change no weight and every record of the
step (the in-graph step, the learning rate, PGAN's fade-in, the data position, log.csv, the
checkpoints, a resume) agrees that a step is a generator iteration run, applied or skipped.

Both paths build the mean pool in the NPU's form here (the forms agree to rounding only, and
Adam turns a rounding difference in a near-zero gradient into a whole update; test_ops.py checks
that the forms compute the same function).
"""
import csv
import importlib
import inspect
import re
import shutil

import numpy as np
import pytest

import configs
from conftest import NCHW_RUNS, TINY_FLAGS, npu_bridge_api, random_source
from models import transfer_gan
from tflib import checkpoints, device, files
from tflib.compat import tf
from zoo import data, training

# The NPU's layout where this CPU's TensorFlow runs it (TF 1.15 has no NCHW convolutions).
LAYOUT = 'NCHW' if NCHW_RUNS else 'NHWC'
QUIET = ['--EXPORT_AT_END', 'false', '--INCEPTION_FREQUENCY', '0', '--MAX_MINUTES', '0',
         '--SAVE_SAMPLES_STEP', '1000', '--LOG_STEP', '1', '--data_format', LAYOUT]
LOSS_SCALE_STATE = ('loss_scale', 'good_steps', 'bad_steps')  # the NPU manager's variables
QUICK = ['--preset', 'quickstart'] + TINY_FLAGS['transfer_gan']


@pytest.fixture
def emulated(npu_emulator, monkeypatch):
    """Random images of each preset's size (no dataset files needed), and the NPU's mean pool
    on every device."""
    monkeypatch.setattr(data, 'load', lambda values, size, channels, cluster: (random_source(
        size, channels), None))
    monkeypatch.setattr(device, 'mean_pool', lambda dev: 'slices')
    monkeypatch.setattr(device, 'session_config', unoptimized(device.session_config))
    return npu_emulator


def unoptimized(session_config):
    """``session_config`` without grappler's rewrites: they rewrite the NPU path's loss-scaled
    graph and the CPU path's plain one differently (TF 1.15 runs them since its upsampling is a
    tile), and Adam's first steps, which divide by the gradients' size, turn that last-bit
    difference into 1e-3 on near-zero weights; this test is about the NPU host code's math."""
    def config(*args, **kwargs):
        proto = session_config(*args, **kwargs)
        proto.graph_options.rewrite_options.disable_meta_optimizer = True
        return proto
    return config


def train(out, dev, *flags):
    """gan_train.py's training, in this process, on ``dev``; returns ``out``."""
    training.train(list(flags) + QUIET + ['--device', dev, '--output_path', str(out)])
    return out


def weights(out, step=None):
    """{key: value} of a run's latest checkpoint (or of its checkpoint at ``step``)."""
    prefix = checkpoints.resolve(str(out))
    if step is not None:
        prefix = prefix.rsplit('-', 1)[0] + '-{}'.format(step)
    reader = tf.train.load_checkpoint(prefix)
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def training_state(out):
    """A run's latest checkpoint without the NPU's loss-scale state."""
    return {k: v for k, v in weights(out).items()
            if k.rstrip('_0123456789') not in LOSS_SCALE_STATE}


def assert_same_training(out, other, atol=1e-5):
    """The same variables, every one within ``atol``, besides the NPU's loss-scale state."""
    state, other = training_state(out), training_state(other)
    assert sorted(state) == sorted(other)
    worst = max((float(np.max(np.abs(state[k].astype(float) - other[k]))) if other[k].size
                 else 0., k) for k in other)
    assert worst[0] <= atol, worst


def model_params(values, prefix):
    """The keys of ``prefix``'s trained weights among a checkpoint's ``values``."""
    return [k for k in values if k.startswith(prefix) and 'moving' not in k and
            not re.search(r'/(Adam|RMSProp)(_1)?$', k)]


def model_of(preset):
    return configs.load(preset)[0]


def short(preset):
    """Flags of a few steps: PGAN's tiny phases are 2 steps, so 4 cross its first fade-in."""
    return ['--preset', preset, '--ITERS', '4' if model_of(preset) == 'pgan' else '3'] + \
        TINY_FLAGS[model_of(preset)]


@pytest.mark.parametrize('preset', configs.names())
@pytest.mark.slow
def test_every_preset_trains_alike_on_the_emulated_npu(preset, emulated, tmp_path):
    assert_same_training(train(tmp_path / 'npu', 'npu', *short(preset)),
                         train(tmp_path / 'cpu', 'cpu', *short(preset)))


@pytest.mark.parametrize('flags', [
    ['--iterations_per_loop', '2', '--ITERS', '4'],
    ['--fused_step', 'false'],
], ids=['loop_of_2', 'step_by_step'])
@pytest.mark.slow
def test_the_loop_and_the_step_by_step_path_train_alike(flags, emulated, tmp_path):
    flags = QUICK + ['--ITERS', '3'] + flags
    assert_same_training(train(tmp_path / 'npu', 'npu', *flags),
                         train(tmp_path / 'cpu', 'cpu', *flags))


@pytest.mark.parametrize('fused', ['true', 'false'])
def test_wgan_trains_alike_through_its_warm_up(fused, emulated, tmp_path):
    """Warm-up iterations of 10 critic steps take two pipeline elements of 5."""
    flags = short('wgan_digits') + ['--warmup_g_iters', '2', '--warmup_Diters', '10',
                                    '--fused_step', fused]
    assert_same_training(train(tmp_path / 'npu', 'npu', *flags),
                         train(tmp_path / 'cpu', 'cpu', *flags))


@pytest.mark.slow
def test_pgan_grows_alike_in_loops_of_2(emulated, tmp_path):
    flags = short('pgan_tiny') + ['--iterations_per_loop', '2', '--ITERS', '6']
    assert_same_training(train(tmp_path / 'npu', 'npu', *flags),
                         train(tmp_path / 'cpu', 'cpu', *flags))


@pytest.mark.slow
def test_checkpoints_move_between_the_npu_and_the_cpu_path(emulated, tmp_path, capsys):
    """A run stopped on one path resumes on the other with every variable but the loss scale,
    and ends where a run on one path does."""
    flags = QUICK + ['--CHECKPOINT_STEP', '2']
    for first, then in (('npu', 'npu'), ('npu', 'cpu'), ('cpu', 'npu')):
        out = tmp_path / (first + '_' + then)
        train(out, first, *flags + ['--ITERS', '2'])
        capsys.readouterr()
        train(out, then, *flags + ['--ITERS', '4'])
        resumed = capsys.readouterr().out
        assert 'resuming' in resumed
        fresh = [line for line in resumed.splitlines() if 'not in that checkpoint' in line]
        if then == 'npu' and first == 'cpu':
            assert fresh and all(name.split(': ')[-1].rstrip('_0123456789') in LOSS_SCALE_STATE
                                 for name in fresh[0].split(': ', 1)[1].split(', ')), fresh
        else:
            assert not fresh, fresh
    for other in ('npu_cpu', 'cpu_npu'):
        assert_same_training(tmp_path / 'npu_npu', tmp_path / other)


def log_rows(out):
    with open(str(out / 'log.csv')) as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_skipped_update_changes_nothing_and_the_step_still_counts(emulated, tmp_path,
                                                                    monkeypatch):
    """The generator's update at step 1 overflows: its weights stay, the critic's move on, and
    the in-graph step, the checkpoints, meta.json and log.csv all count 3 steps; the learning
    rate logged is the schedule's at every step; a resume ends where an uninterrupted run ends."""
    monkeypatch.setenv('NPU_EMULATOR_OVERFLOW_AT', 'Generator:1')
    flags = QUICK + ['--CHECKPOINT_STEP', '1', '--DECAY', 'true', '--ITERS', '3']
    out = train(tmp_path / 'npu', 'npu', *flags)
    at = {step: weights(out, step) for step in (1, 2, 3)}
    generator, critic = model_params(at[1], 'Generator'), model_params(at[1], 'Discriminator')
    for key in generator:
        np.testing.assert_array_equal(at[2][key], at[1][key], key)
    assert any(not np.array_equal(at[3][k], at[2][k]) for k in generator)
    assert any(not np.array_equal(at[2][k], at[1][k]) for k in critic)
    assert [int(at[s]['global_step']) for s in (1, 2, 3)] == [1, 2, 3]
    assert checkpoints.read_meta(str(out))['step'] == 3
    rows = log_rows(out)
    assert [int(r['step']) for r in rows] == [1, 2, 3]
    cfg = transfer_gan.config(LR=1e-3, ITERS=3)  # quickstart's LR; a row's, at its step
    with tf.Session(graph=tf.Graph()) as session:
        rates = session.run([transfer_gan.learning_rate(cfg, s) for s in (1, 2, 3)])
    np.testing.assert_allclose([float(r['learning_rate']) for r in rows], rates, rtol=1e-6)
    resumed = tmp_path / 'resumed'  # as if killed after its step-2 checkpoint
    shutil.copytree(str(out), str(resumed))
    meta = files.read_json(str(resumed / 'meta.json'))
    meta.update(step=2, checkpoint=meta['checkpoint'].replace('-3', '-2'))
    files.write_json(str(resumed / 'meta.json'), meta)
    train(resumed, 'npu', *flags)
    assert_same_training(resumed, out, atol=0)


@pytest.mark.slow
def test_pgan_fades_in_by_iterations_when_updates_are_skipped(emulated, tmp_path, monkeypatch):
    """Every generator update of PGAN's first fade-in overflows: its alpha still rises by the
    step (0, 0.5 over the phase's 2 steps), and the phase ends on time."""
    monkeypatch.setenv('NPU_EMULATOR_OVERFLOW_AT', 'Generator:2,3')
    out = train(tmp_path / 'npu', 'npu', *short('pgan_tiny'))
    rows = log_rows(out)
    assert [(int(r['step']), r.get('alpha')) for r in rows] == \
        [(1, ''), (2, ''), (3, '0.0'), (4, '0.5')]
    assert checkpoints.read_meta(str(out))['step'] == 4 and int(weights(out)['global_step']) == 4


@pytest.mark.slow
def test_the_loss_scale_backs_off_as_the_adapter_says(emulated, tmp_path, monkeypatch):
    """Every update overflows (no scaled gradient below 1 passes): nothing trains, the step
    counts on, and each manager halves its scale every second overflowing update
    (decr_every_n_nan_or_inf 2, decr_ratio 0.5), from 2^32."""
    monkeypatch.setenv('NPU_EMULATOR_OVERFLOW_ABOVE', '1')
    flags = QUICK + ['--N_CRITIC', '2', '--CHECKPOINT_STEP', '1', '--ITERS', '3']
    out = train(tmp_path / 'npu', 'npu', *flags)
    first, last = weights(out, 1), weights(out)
    for key in model_params(first, 'Generator') + model_params(first, 'Discriminator'):
        np.testing.assert_array_equal(first[key], last[key], key)
    managers = sorted((float(last[s]), int(last[b])) for s, b in (
        ('loss_scale', 'bad_steps'), ('loss_scale_1', 'bad_steps_1')))
    # generator: 3 overflowing updates; critic: 6.
    assert managers == [(2. ** 29, 0), (2. ** 31, 1)]
    assert int(last['global_step']) == 3


def test_the_emulator_has_the_adapters_api(npu_emulator):
    """Each npu_bridge member the project calls exists in the emulator with the parameters the
    adapter's source gives it (test/data/ascend/npu_bridge_api.txt)."""
    for (module, member), parameters in npu_bridge_api().items():
        found = importlib.import_module(module)
        if member != '-':
            found = getattr(found, member)
            target = found.__init__ if inspect.isclass(found) else found
            names = [p for p in inspect.signature(target).parameters if p != 'self']
            assert names == ([] if parameters == ['-'] else parameters), (module, member, names)


@pytest.mark.slow
def test_a_precision_mode_a_910_cannot_train_in_is_named(emulated, tmp_path, capsys):
    """must_keep_origin_dtype: test_ascend_graph.py finds the 910's convolution gradients
    without fp32 kernels; the run says so before it starts (it cannot tell a 910 from a 910B)."""
    train(tmp_path / 'npu', 'npu', *QUICK + ['--ITERS', '1', '--precision_mode',
                                             'must_keep_origin_dtype'])
    out = capsys.readouterr().out
    assert 'warning: --precision_mode must_keep_origin_dtype keeps every op in fp32' in out
    assert 'Conv2DBackpropInput' in out
