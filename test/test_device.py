"""Device layer: session-config protos, loss-scale wrapping, and what restores never touch.

npu_bridge cannot be installed off Ascend; the NPU tests run on test/npu_emulator, which does
what the adapter's source does (the training runs themselves: test_npu_emulated.py)."""
import importlib.util
import json

import numpy as np
import pytest

import models
from conftest import TINY, fixed_inputs, new_session
from models import transfer_gan
from tflib import checkpoints, compat, device, params
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
    assert rewrites.memory_optimization == rewrites.NO_MEM_OPT  # not OFF: that is MANUAL
    assert config.allow_soft_placement
    default = device.session_config('npu').graph_options.rewrite_options
    assert default.custom_optimizers[0].parameter_map['precision_mode'].s == \
        b'allow_mix_precision'
    with pytest.raises(device.DeviceError, match='--precision_mode must be one of'):
        device.session_config('npu', precision_mode='fp8')


def test_npu_loop_and_debug_switches_are_keys_the_adapter_reads(npu_emulator):
    """Loop sinking and the ModelZoo template's switches as NpuOptimizer parameters, each one a
    key the adapter reads (it ignores others silently), in the field it reads it from, with a
    value it accepts (the emulator checks them as npu_attrs.cc does)."""
    check = npu_emulator._emulator.check_npu_parameters
    debug = device.NpuDebug('/tmp/dump', '0|5|10-12', True, '/tmp/prof', True)
    config = device.session_config('npu', local_rank=0, iterations_per_loop=8, debug=debug)
    npu = config.graph_options.rewrite_options.custom_optimizers[0].parameter_map
    values = check(npu)
    assert values['iterations_per_loop'] == 8 and values['enable_data_pre_proc'] is True
    assert values['enable_dump'] and values['dump_step'] == '0|5|10-12'
    assert values['dump_mode'] == 'all' and values['dump_path'] == '/tmp/dump'
    assert values['enable_dump_debug'] and values['dump_debug_mode'] == 'all'
    assert values['profiling_mode'] is True
    assert json.loads(values['profiling_options'])['output'] == '/tmp/prof'
    assert values['auto_tune_mode'] == 'RL,GA'
    plain = device.session_config('npu').graph_options.rewrite_options.custom_optimizers[0]
    assert set(check(plain.parameter_map)) == {'use_off_line', 'precision_mode'}
    assert device.session_config('cpu', iterations_per_loop=8, debug=debug) == \
        device.session_config('cpu')
    for step in ('5-', 'a', '1,2', ''):
        if step:
            with pytest.raises(device.DeviceError, match='--data_dump_step expects'):
                device.session_config('npu', debug=debug._replace(data_dump_step=step))
    # The check fails on what the adapter would ignore or misread.
    npu['precision'].s = b'allow_mix_precision'
    with pytest.raises(npu_emulator._emulator.AdapterError, match='not one the adapter reads'):
        check(npu)
    del npu['precision']
    npu['iterations_per_loop'].s = b'8'
    with pytest.raises(npu_emulator._emulator.AdapterError, match=r'reads \.i\(\)'):
        check(npu)


def test_npu_loop_op_is_the_adapters_iteration_op(npu_emulator):
    """Loop sinking through npu_bridge's util.IterationPerLoop: the ``IterationOp`` node, whose
    session.run the device repeats K times (one pipeline element each), the loop bound loaded
    as the adapter loads it; one iteration needs neither."""
    with new_session() as session:
        assert device.loop_op(tf.no_op(), 1) == (None, None)
        tf.train.get_or_create_global_step()
        elements = tf.data.Dataset.range(100).make_initializable_iterator()
        total = tf.Variable(0, dtype=tf.int64)
        train = tf.assign_add(total, elements.get_next()).op
        op, load = device.loop_op(train, 4)
        session.run([tf.global_variables_initializer(), elements.initializer])
        load(session)
        assert op.name == 'IterationOp'
        assert session.run(tf.get_collection('npu_runconfig_iterations_per_loop')[0]) == 3
    npu = device.session_config('npu', iterations_per_loop=4)
    with tf.Session(graph=op.graph, config=npu) as session:
        session.run([tf.global_variables_initializer(), elements.initializer])
        load(session)
        session.run(op)
        assert session.run(total) == 0 + 1 + 2 + 3  # four elements in one call
        session.run(train)
        assert session.run(total) == 6 + 4  # another op: one iteration
    wrong = device.session_config('npu', iterations_per_loop=2)
    with tf.Session(graph=op.graph, config=wrong) as session:
        session.run([tf.global_variables_initializer(), elements.initializer])
        load(session)
        with pytest.raises(npu_emulator._emulator.AdapterError, match='a 910 would run 4'):
            session.run(op)


def test_gpu_and_cpu_session_configs():
    gpu = device.session_config('gpu')
    assert gpu.gpu_options.allow_growth
    assert not gpu.graph_options.rewrite_options.custom_optimizers
    cpu = device.session_config('cpu', threads=2)
    assert cpu.intra_op_parallelism_threads == 2 and cpu.inter_op_parallelism_threads == 2
    rewrites = cpu.graph_options.rewrite_options
    # oneDNN's remapper fails on ResNet graphs and is undone anyway: off where it runs.
    assert (rewrites.remapping == rewrites.OFF) == compat.onednn_enabled()
    assert gpu.graph_options.rewrite_options.remapping != rewrites.OFF
    if device.bf16_rewrite_available():
        bf16 = device.session_config('cpu', mixed_precision=True).graph_options.rewrite_options
        assert bf16.auto_mixed_precision_onednn_bfloat16 == bf16.ON
        assert rewrites.auto_mixed_precision_onednn_bfloat16 != rewrites.ON
    else:
        with pytest.raises(device.DeviceError, match="oneDNN's bfloat16 rewrite"):
            device.session_config('cpu', mixed_precision=True)


def test_npu_loss_scaling_wraps_each_optimizer(npu_emulator):
    """NPULossScaleOptimizer with the ModelZoo GAN ports' manager settings, around the
    optimizer; and the optimizer's state named as on a CPU, although the adapter applies it
    inside a tf.cond (test_npu_emulated.py moves checkpoints between the paths)."""
    def adam_state(dev):
        with new_session():
            weight = tf.Variable(1., name='W')
            optimizer = device.wrap_optimizer(tf.train.AdamOptimizer(.1), dev)
            optimizer.minimize(weight * weight)
            return optimizer, sorted(v.op.name for v in tf.global_variables())

    wrapped, names = adam_state('npu')
    manager = wrapped._loss_scale_manager
    assert (manager._incr_every_n_steps, manager._decr_every_n_nan_or_inf,
            manager._decr_ratio) == (1000, 2, .5)
    assert isinstance(wrapped._opt, device.NamedAsUnwrapped)
    assert isinstance(wrapped._opt._optimizer, tf.train.AdamOptimizer)
    assert sorted(set(names) - {'loss_scale', 'good_steps', 'bad_steps'}) == \
        adam_state('cpu')[1] == ['W', 'W/Adam', 'W/Adam_1', 'beta1_power', 'beta2_power']
    plain = object()
    assert device.wrap_optimizer(plain, 'cpu') is plain
    assert device.wrap_optimizer(plain, 'gpu') is plain


@pytest.fixture
def gpu_loss_scaling():
    """TF's mixed-precision graph rewrite is process-wide: switch it off again afterwards."""
    yield
    (tf.mixed_precision if IS_TF2 else tf.train.experimental) \
        .disable_mixed_precision_graph_rewrite()


@pytest.mark.slow
def test_restoring_model_weights_never_touches_loss_scale_or_optimizer_state(
        tmp_path, gpu_loss_scaling):
    """Fine-tuning loads model params only: Adam slots, beta powers, the step and the dynamic
    loss scale of the running graph keep their values."""
    cfg = transfer_gan.config(batch_size=4, **TINY['cifar_resnet'])
    real = np.random.RandomState(0).uniform(-1, 1, (4, 16, 16, 3)).astype('float32')
    labels = np.array([0, 1, 2, 0], np.int32)

    def run(steps):
        gan = models.get('transfer_gan').build(
            cfg, fixed_inputs(real, labels), lambda opt: device.wrap_optimizer(opt, 'gpu', True),
            step_by_step=True)
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
