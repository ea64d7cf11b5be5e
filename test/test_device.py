"""Device layer: session-config protos, loss-scale wrapping, and what restores never touch.

npu_bridge cannot be installed off Ascend; the NPU wrapping test stands a recording double in
for it to check our calls (which optimizer wraps which, with which manager settings) — it
proves the wiring, not the adapter."""
import importlib.util
import json
import os

import numpy as np
import pytest

from conftest import TINY, fixed_inputs, new_session, npu_bridge_api, stand_in_npu_bridge
from models import transfer_gan
from tflib import checkpoints, device, params
from tflib.compat import IS_TF2, tf

NPU_AVAILABLE = importlib.util.find_spec('npu_bridge') is not None


def test_resolve():
    assert device.resolve('cpu') == 'cpu'
    assert device.resolve('npu') == 'npu'
    assert device.resolve('auto') in (('npu',) if NPU_AVAILABLE else ('gpu', 'cpu'))
    with pytest.raises(device.DeviceError, match="--device must be one of"):
        device.resolve('tpu')
    assert device.data_format('cpu') == 'NHWC'
    assert device.data_format('npu') == device.data_format('gpu') == 'NCHW'


@pytest.mark.skipif(NPU_AVAILABLE, reason='npu_bridge is installed here')
def test_npu_without_npu_bridge_is_a_clear_error():
    with pytest.raises(device.DeviceError, match=r"--device npu needs Ascend's TensorFlow "
                                                 r"adapter \(npu_bridge"):
        device.require('npu')


def test_npu_session_config():
    config = device.session_config('npu', precision_mode='allow_fp32_to_fp16')
    rewrites = config.graph_options.rewrite_options
    assert [o.name for o in rewrites.custom_optimizers] == ['NpuOptimizer']
    npu = rewrites.custom_optimizers[0].parameter_map
    assert npu['use_off_line'].b is True
    assert npu['precision_mode'].s == b'allow_fp32_to_fp16'
    assert rewrites.remapping == rewrites.OFF
    assert rewrites.memory_optimization == rewrites.OFF
    assert config.allow_soft_placement
    default = device.session_config('npu').graph_options.rewrite_options
    assert default.custom_optimizers[0].parameter_map['precision_mode'].s == \
        b'allow_mix_precision'
    with pytest.raises(device.DeviceError, match='--precision_mode must be one of'):
        device.session_config('npu', precision_mode='fp8')


ADAPTER_KEYS = set(line.strip() for line in open(os.path.join(
    os.path.dirname(__file__), 'data', 'ascend', 'npu_session_keys.txt')) if line[0] != '#')


def test_npu_loop_and_debug_switches_are_keys_the_adapter_reads():
    """Loop sinking and the ModelZoo template's switches as NpuOptimizer parameters, each one a
    key Ascend's adapter reads (it ignores others silently), with the type it reads."""
    debug = device.NpuDebug('/tmp/dump', '0|5|10-12', True, '/tmp/prof', True)
    config = device.session_config('npu', local_rank=0, iterations_per_loop=8, debug=debug)
    npu = config.graph_options.rewrite_options.custom_optimizers[0].parameter_map
    assert set(npu) <= ADAPTER_KEYS, sorted(set(npu) - ADAPTER_KEYS)
    assert npu['iterations_per_loop'].i == 8 and npu['enable_data_pre_proc'].b is True
    assert npu['enable_dump'].b and npu['dump_step'].s == b'0|5|10-12'
    assert npu['dump_mode'].s == b'all' and npu['dump_path'].s == b'/tmp/dump'
    assert npu['enable_dump_debug'].b and npu['dump_debug_mode'].s == b'all'
    assert npu['profiling_mode'].b is True
    assert json.loads(npu['profiling_options'].s.decode())['output'] == '/tmp/prof'
    assert npu['auto_tune_mode'].s == b'RL,GA'
    plain = device.session_config('npu').graph_options.rewrite_options.custom_optimizers[0]
    assert set(plain.parameter_map) == {'use_off_line', 'precision_mode'}
    assert device.session_config('cpu', iterations_per_loop=8, debug=debug) == \
        device.session_config('cpu')
    for step in ('5-', 'a', '1,2', ''):
        if step:
            with pytest.raises(device.DeviceError, match='--data_dump_step expects'):
                device.session_config('npu', debug=debug._replace(data_dump_step=step))


def test_npu_loop_op_is_the_adapters_iteration_op(monkeypatch):
    """Loop sinking through npu_bridge's util.IterationPerLoop: its op and its load, called
    with the same count; one iteration needs neither."""
    calls = []

    class IterationPerLoop(object):
        def create_iteration_per_loop_var(self, train_op):
            calls.append(('create', train_op))
            return 'loop op'

        def load_iteration_per_loop_var(self, sess, iterations_per_loop=1):
            calls.append(('load', sess, iterations_per_loop))

    stand_in_npu_bridge(monkeypatch, {'estimator.npu.util': {'IterationPerLoop':
                                                             IterationPerLoop}})
    assert device.loop_op('train', 1) == ('train', None)
    op, load = device.loop_op('train', 4)
    load('session')
    assert op == 'loop op' and calls == [('create', 'train'), ('load', 'session', 4)]


def test_gpu_and_cpu_session_configs():
    gpu = device.session_config('gpu')
    assert gpu.gpu_options.allow_growth
    assert not gpu.graph_options.rewrite_options.custom_optimizers
    cpu = device.session_config('cpu', threads=2)
    assert cpu.intra_op_parallelism_threads == 2 and cpu.inter_op_parallelism_threads == 2
    rewrites = cpu.graph_options.rewrite_options
    if device.bf16_rewrite_available():
        bf16 = device.session_config('cpu', mixed_precision=True).graph_options.rewrite_options
        assert bf16.auto_mixed_precision_onednn_bfloat16 == bf16.ON
        assert rewrites.auto_mixed_precision_onednn_bfloat16 != rewrites.ON
    else:
        with pytest.raises(device.DeviceError, match="oneDNN's bfloat16 rewrite"):
            device.session_config('cpu', mixed_precision=True)


def test_npu_loss_scaling_wraps_each_optimizer(fake_npu_bridge):
    optimizer = object()
    wrapped = device.wrap_optimizer(optimizer, 'npu')
    assert isinstance(wrapped, fake_npu_bridge.ScaledOptimizer)
    assert fake_npu_bridge.calls == [('scale', optimizer, {
        'init_loss_scale': 2 ** 32, 'incr_every_n_steps': 1000, 'decr_every_n_nan_or_inf': 2,
        'decr_ratio': 0.5}, False)]
    assert set(fake_npu_bridge.calls[0][2]) <= set(npu_bridge_api()[
        'npu_bridge.estimator.npu.npu_loss_scale_manager', 'ExponentialUpdateLossScaleManager'])
    plain = object()
    assert device.wrap_optimizer(plain, 'cpu') is plain
    assert device.wrap_optimizer(plain, 'gpu') is plain


@pytest.fixture
def gpu_loss_scaling():
    """TF's mixed-precision graph rewrite is process-wide: switch it off again afterwards."""
    yield
    (tf.mixed_precision if IS_TF2 else tf.train.experimental) \
        .disable_mixed_precision_graph_rewrite()


def test_restoring_model_weights_never_touches_loss_scale_or_optimizer_state(
        tmp_path, gpu_loss_scaling):
    """Fine-tuning loads model params only: Adam slots, beta powers, the step and the dynamic
    loss scale of the running graph keep their values."""
    cfg = transfer_gan.config(batch_size=4, **TINY['cifar_resnet'])
    real = np.random.RandomState(0).uniform(-1, 1, (4, 16, 16, 3)).astype('float32')
    labels = np.array([0, 1, 2, 0], np.int32)

    def run(steps):
        gan = transfer_gan.build(cfg, fixed_inputs(real, labels),
                                 lambda opt: device.wrap_optimizer(opt, 'gpu', True))
        session = tf.get_default_session()
        session.run(tf.global_variables_initializer())
        for _ in range(steps):
            session.run([gan.disc_train_op, gan.gen_train_op])
        return gan

    with new_session(seed=1) as session:
        run(1)
        source = tf.train.Saver().save(session, str(tmp_path / 'source'))
        saved = {v.op.name: v for v in params.all_params()}
        saved = session.run(saved)
    with new_session(seed=2) as session:
        run(2)
        others = [v for v in tf.global_variables() if v not in params.all_params()]
        names = [v.op.name for v in others]
        assert any('loss_scale' in n.lower() for n in names), names
        assert any(n.endswith('/Adam') for n in names) and 'global_step' in names
        before = session.run(others)
        report = checkpoints.restore(session, source, params.all_params())
        after = session.run(others)
        restored = session.run({v.op.name: v for v in params.all_params()})
    assert len(report['restored']) == len(saved) and not report['missing']
    for name, value in saved.items():
        np.testing.assert_array_equal(restored[name], value)
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)
