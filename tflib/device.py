"""Sessions for Ascend NPU, GPU and CPU: the only module that imports ``npu_bridge`` (through
``npu_bridge()``, which tflib/distributed.py uses for HCCL).

NPU: the NpuOptimizer session config of the Ascend ModelZoo ports (offline mode, mixed precision,
remapping and memory optimisation off) and loss scaling through NPULossScaleOptimizer with an
ExponentialUpdateLossScaleManager. GPU: memory growth and, optionally, TF's automatic mixed
precision rewrite with dynamic loss scaling. CPU: thread counts and, optionally, oneDNN's bfloat16
rewrite. ``npu_bridge`` is imported only when an NPU is asked for.
"""
import collections
import importlib
import importlib.util
import json
import os
import re

import numpy as np

from tflib.compat import IS_TF2, onednn_enabled, tf
from tflib.config import FALSE, TRUE, ConfigError

DEVICES = ('auto', 'npu', 'gpu', 'cpu')
MIXED_PRECISION = ('false', 'true', 'auto')  # auto: on a CPU, bf16 where a probe finds it faster
# The values Ascend's adapter accepts (tf_adapter/util/npu_attrs.cc, SetNpuOptimizerAttr).
PRECISION_MODES = ('allow_mix_precision', 'allow_fp32_to_fp16', 'force_fp16', 'force_fp32',
                   'must_keep_origin_dtype', 'cube_fp16in_fp32out', 'allow_mix_precision_fp16',
                   'allow_mix_precision_bf16', 'allow_fp32_to_bf16')
# Precision modes these models cannot train in on an Ascend 910 (the 910B and later can), from
# CANN's 910 op tables (aic-ascend910-ops-info.json).
_BF16 = ('computes in bf16, for which an Ascend 910 has one kernel only (TransData; the 910B, '
         'Atlas A2, and later have them); on a 910 use allow_mix_precision')
PRECISION_LIMITS = {
    'must_keep_origin_dtype': 'keeps every op in fp32, but an Ascend 910\'s Conv2DBackpropInput '
                              'and Conv2DBackpropFilter take fp16 only, so no training step '
                              'compiles there (the 910B adds fp32); on a 910 use '
                              'allow_mix_precision',
    'allow_mix_precision_bf16': _BF16,
    'allow_fp32_to_bf16': _BF16,
}
DUMP_STEP = re.compile(r'^\d+(-\d+)?(\|\d+(-\d+)?)*$')

# Ascend's debugging switches (the ModelZoo template's flags), as the adapter reads them.
NpuDebug = collections.namedtuple('NpuDebug', [
    'dump_path',       # the one folder of both dumps (the adapter requires it to exist)
    'data_dump_step',  # '' : no data dump; else the steps, e.g. '10', '0|5|10', '0-5'
    'over_dump',       # overflow detection: dump the operators that overflow
    'profiling_path',  # '' : no profiling; else its output folder
    'autotune',        # tune operators (RL and GA) while compiling
])
NO_DEBUG = NpuDebug('', '', False, '', False)


class DeviceError(RuntimeError):
    """The asked-for device or precision cannot be had here."""


def npu_bridge(module='npu_bridge.npu_init'):
    """Import a module of Ascend's TF adapter, or fail with what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise DeviceError('--device npu needs Ascend\'s TensorFlow adapter (npu_bridge, installed '
                          'with CANN on an Ascend machine): {}'.format(error))


def resolve(device):
    """'auto' becomes npu where npu_bridge imports, else gpu where TF sees one, else cpu."""
    if device not in DEVICES:
        raise DeviceError('--device must be one of {}, got {!r}'.format(DEVICES, device))
    if device != 'auto':
        return device
    if importlib.util.find_spec('npu_bridge') is not None:
        return 'npu'
    return 'gpu' if tf.config.experimental.list_physical_devices('GPU') else 'cpu'


def require(device):
    """Fail early, with what is missing, when a resolved device cannot be used here."""
    if device == 'npu':
        npu_bridge()
    elif device == 'gpu' and not tf.config.experimental.list_physical_devices('GPU'):
        raise DeviceError('--device gpu, but TensorFlow {} sees no GPU here'.format(
            tf.__version__))


def mixed_precision_mode(value):
    """The --mixed_precision setting as one of MIXED_PRECISION (true/false in any of the usual
    spellings)."""
    text = str(value).lower()
    mode = 'true' if text in TRUE else 'false' if text in FALSE else text
    if mode not in MIXED_PRECISION:
        raise DeviceError('--mixed_precision must be one of {}, got {!r}'.format(
            ', '.join(MIXED_PRECISION), value))
    return mode


def bf16_rewrite_available():
    """Whether this TensorFlow has oneDNN's bfloat16 graph rewrite (TF 2.x; not TF 1.15)."""
    return 'auto_mixed_precision_onednn_bfloat16' in \
        tf.ConfigProto().graph_options.rewrite_options.DESCRIPTOR.fields_by_name


def data_format(device):
    """NCHW where the original ran (NPU, GPU); NHWC on CPU, where TF 1.15 has no NCHW convs."""
    return 'NHWC' if device == 'cpu' else 'NCHW'


def weight_bound(device):
    """What a weight must stay below in magnitude to count as intact. An Ascend 910 computes in
    saturation mode: an fp16 overflow becomes +-65504 (fp16's largest value), not Inf, so a
    value that reached it (a BatchNorm moving variance updated in fp16, say) is as broken as a
    NaN there; elsewhere only NaN and Inf are."""
    return 65504. if device == 'npu' else np.inf


def mean_pool(device):
    """The mean pool's form (tflib.ops.resample.POOLINGS) for ``device``: on an NPU the strided
    slices a 910 has compiled (its AvgPool takes fp16 only, with a support check at compile
    time), elsewhere the faster AvgPool."""
    return 'slices' if device == 'npu' else 'avg_pool'


def session_config(device, precision_mode='allow_mix_precision', mixed_precision=False,
                   threads=0, local_rank=None, iterations_per_loop=1, debug=NO_DEBUG):
    """The ConfigProto for ``device`` (already resolved); ``local_rank`` is set for
    data-parallel ranks: it picks a rank's GPU (on Ascend, npu_bridge reads DEVICE_ID).
    On NPU, ``iterations_per_loop`` > 1 sinks that many iterations and the input pipeline to
    the device (with ``loop_op``), and ``debug`` sets Ascend's dump, profiling and tuning
    switches."""
    config = tf.ConfigProto(allow_soft_placement=True)
    rewrites = config.graph_options.rewrite_options
    if local_rank is not None and device != 'npu':
        # Horovod ranks: with TF 1.15's dependency optimizer on (it rewrites control
        # dependencies), two ranks deadlocked in their first step, each having submitted all
        # of the generator's gradients but one, a different one (4 of 5 two-rank runs on a
        # loaded 2-core machine; with the pass off, none of 7).
        rewrites.dependency_optimization = rewrites.OFF
    if device == 'npu':
        if precision_mode not in PRECISION_MODES:
            raise DeviceError('--precision_mode must be one of {}, got {!r}'.format(
                PRECISION_MODES, precision_mode))
        npu = rewrites.custom_optimizers.add()
        npu.name = 'NpuOptimizer'
        npu.parameter_map['use_off_line'].b = True
        npu.parameter_map['precision_mode'].s = tf.compat.as_bytes(precision_mode)
        if local_rank is not None:  # data-parallel: HCCL's allreduce overlaps the backprop
            npu.parameter_map['hcom_parallel'].b = True
        if iterations_per_loop > 1:
            npu.parameter_map['iterations_per_loop'].i = iterations_per_loop
            npu.parameter_map['enable_data_pre_proc'].b = True
        _npu_debug(npu.parameter_map, debug)
        rewrites.remapping = rewrites.OFF
        # Off is NO_MEM_OPT: the ModelZoo ports' RewriterConfig.OFF (a Toggle, 2) means MANUAL
        # here, whose topological sort aborted TF 1.15 (on a CPU) on a training step with a
        # loss-scale tf.cond (found by running the NPU path on test/npu_emulator).
        rewrites.memory_optimization = rewrites.NO_MEM_OPT
    elif device == 'gpu':
        config.gpu_options.allow_growth = True
        if local_rank is not None:
            config.gpu_options.visible_device_list = str(local_rank)
    else:
        config.intra_op_parallelism_threads = threads
        config.inter_op_parallelism_threads = min(threads, 2) if threads else 0
        if onednn_enabled():
            # oneDNN's remapper fuses Conv2D + BiasAdd + Add + Relu without checking that the
            # Add has no other reader, which a ResNet block's output has: the pass fails
            # ("Mutation::Apply error: fanout ... exist for missing node") and is undone for
            # the whole graph, so turning it off costs nothing (bench/train_step.py) and
            # keeps the error line out of the console.
            rewrites.remapping = rewrites.OFF
        if mixed_precision:
            if not bf16_rewrite_available():
                raise DeviceError('--mixed_precision on CPU needs oneDNN\'s bfloat16 rewrite, '
                                  'which TensorFlow {} lacks'.format(tf.__version__))
            rewrites.auto_mixed_precision_onednn_bfloat16 = rewrites.ON
    return config


NPU_SWITCHES = ('over_dump', 'data_dump_flag', 'profiling', 'autotune')


def npu_debug(values, dev):
    """Ascend's dump, profiling and tuning switches from the flags' ``values``, with their
    folders (by default under --output_path) created: the adapter wants the dump folder to
    exist. It has one dump folder, so a data dump and an overflow dump share data_dump_path."""
    switched = [key for key in NPU_SWITCHES if values[key]]
    if dev != 'npu':
        if switched:
            print('note: {} only act on an Ascend NPU; ignored on {}'.format(
                ', '.join('--' + k for k in switched), dev))
        return NO_DEBUG

    def folder(on, key, default):
        if not on:
            return ''
        path = os.path.abspath(values[key] or os.path.join(values['output_path'], default))
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            raise ConfigError('--{} {}: cannot create ({})'.format(key, path, error.strerror))
        return path

    dump = folder(values['data_dump_flag'], 'data_dump_path', 'data_dump') or \
        folder(values['over_dump'], 'over_dump_path', 'overflow_dump')
    return NpuDebug(dump, values['data_dump_step'] if values['data_dump_flag'] else '',
                    values['over_dump'], folder(values['profiling'], 'profiling_dump_path',
                                                'profiling'), values['autotune'])


def _npu_debug(parameters, debug):
    """Ascend's dump, profiling and tuning switches as NpuOptimizer parameters."""
    if debug.data_dump_step or debug.over_dump:
        parameters['dump_path'].s = tf.compat.as_bytes(debug.dump_path)
    if debug.data_dump_step:
        if not DUMP_STEP.match(debug.data_dump_step):
            raise DeviceError('--data_dump_step expects steps like 10, 0|5|10 or 0-5, got {!r}'
                              .format(debug.data_dump_step))
        parameters['enable_dump'].b = True
        parameters['dump_step'].s = tf.compat.as_bytes(debug.data_dump_step)
        parameters['dump_mode'].s = b'all'
    if debug.over_dump:
        parameters['enable_dump_debug'].b = True
        parameters['dump_debug_mode'].s = b'all'
    if debug.profiling_path:
        parameters['profiling_mode'].b = True
        parameters['profiling_options'].s = tf.compat.as_bytes(json.dumps({
            'output': debug.profiling_path, 'training_trace': 'on', 'task_trace': 'on',
            'aicpu': 'on', 'fp_point': '', 'bp_point': '', 'aic_metrics': 'PipeUtilization'}))
    if debug.autotune:
        parameters['auto_tune_mode'].s = b'RL,GA'


def loop_op(train_op, iterations_per_loop):
    """(op, load): ``train_op`` as the op of an NPU loop of ``iterations_per_loop``
    iterations per session call (npu_bridge's IterationPerLoop: an ``IterationOp`` node and its
    loop variables, the session config's ``iterations_per_loop`` being the same), and
    ``load(session)``, which sets the count once the session exists. One iteration: (None,
    None), and the training loop runs iterations as on any device (an iteration with more
    critic steps than a pipeline element holds, or step by step)."""
    if iterations_per_loop == 1:
        return None, None
    loop = npu_bridge('npu_bridge.estimator.npu.util').IterationPerLoop()
    op = loop.create_iteration_per_loop_var(train_op)
    return op, lambda session: loop.load_iteration_per_loop_var(session, iterations_per_loop)


def loss_scale_manager(init_loss_scale=2 ** 32, incr_every_n_steps=1000):
    """Ascend's dynamic loss scale: halved after two overflowing steps, doubled after
    ``incr_every_n_steps`` clean ones (the ModelZoo GAN ports' settings)."""
    managers = npu_bridge('npu_bridge.estimator.npu.npu_loss_scale_manager')
    return managers.ExponentialUpdateLossScaleManager(
        init_loss_scale=init_loss_scale, incr_every_n_steps=incr_every_n_steps,
        decr_every_n_nan_or_inf=2, decr_ratio=0.5)


def wrap_optimizer(optimizer, device, mixed_precision=False, is_distributed=False):
    """Add loss scaling where the device computes in half precision (around an optimizer
    that averages gradients over data-parallel ranks, when ``is_distributed``).

    On NPU, ``precision_mode`` (session config) already casts to fp16, so every optimizer gets
    loss scaling; on GPU only with ``mixed_precision`` (TF's fp16 graph rewrite). bfloat16 on CPU
    keeps fp32's range and needs none. The loss-scale state lives outside the model's params, so
    restoring or fine-tuning model weights never touches it."""
    if device == 'npu':
        scaled = npu_bridge('npu_bridge.estimator.npu.npu_loss_scale_optimizer')
        return scaled.NPULossScaleOptimizer(NamedAsUnwrapped(optimizer),
                                            loss_scale_manager(), is_distributed=is_distributed)
    if device == 'gpu' and mixed_precision:
        rewrite = (tf.mixed_precision if IS_TF2 else tf.train.experimental)
        return rewrite.enable_mixed_precision_graph_rewrite(NamedAsUnwrapped(optimizer),
                                                            loss_scale='dynamic')
    return optimizer


class NamedAsUnwrapped(tf.train.Optimizer):
    """``optimizer`` with its state named as if no loss-scaling wrapper were around it.

    NPULossScaleOptimizer (and TF's GPU one) applies the gradients inside a ``tf.cond``, whose
    name scope would prefix the variables the optimizer creates there (Adam's
    ``cond/beta1_power``), so a checkpoint would not move between the NPU path and the CPU/GPU
    one with its optimizer state: a resume on the other path would restart Adam's bias
    correction. The update is made under the name scope the gradients were computed in (each
    compute_gradients is followed by its apply_gradients, as minimize() and the wrappers do)."""

    def __init__(self, optimizer):
        super(NamedAsUnwrapped, self).__init__(False, getattr(optimizer, '_name', 'Optimizer'))
        self._optimizer, self._scope = optimizer, ''

    def compute_gradients(self, *args, **kwargs):
        self._scope = tf.get_default_graph().get_name_scope()
        return self._optimizer.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        with tf.get_default_graph().name_scope(self._scope + '/' if self._scope else ''):
            return self._optimizer.apply_gradients(grads_and_vars, global_step, name)

    def get_slot(self, var, name):
        return self._optimizer.get_slot(var, name)

    def get_slot_names(self):
        return self._optimizer.get_slot_names()

    def variables(self):
        return self._optimizer.variables()
