"""What the adapter's C++ side and the 910 do, emulated on a CPU: the NpuOptimizer session config
checked and set aside, the device loop of ``iterations_per_loop``, and the float-status
register.

Session config (tf_adapter/util/npu_attrs.cc, NpuAttrs::SetNpuOptimizerAttr, lines 1685-2480):
every parameter must be a key the adapter reads, in the AttrValue field it reads it from (it
ignores other keys, and reads a key set in another field as false, "" or 0), with the values it
checks (precision_mode, line 1928; dump_path with a dump, line 1819; dump_mode and
dump_debug_mode, lines 268-285). The checked NpuOptimizer entry is then removed, and the session
runs on the CPU with the rest of the config.

Device loop (tf_adapter/kernels/geop_npu.cc lines 1221-1224 and 1432-1435; GE's FlowCtrlPass):
when the session config's ``iterations_per_loop`` K is above 1 and a ``session.run`` executes
the node named exactly ``IterationOp``, the device runs the whole graph K times, its sunk
GetNext taking a new element each time (``enable_data_pre_proc``), and the fetches are the last
iteration's. GE's loop bound is the variable ``npu_runconfig/iterations_per_loop`` plus one
(util.py loads K - 1). Other ``session.run`` calls run once. Refused as the adapter refuses
them: K > 1 with a OneShotIterator (om_partition_subgraphs_pass.cc lines 2207-2210). Refused
though the adapter's session path would run them, as mistakes of ours: K > 1 with
mix_compile_mode (NPURunConfig refuses it, npu_config.py lines 181-186), K > 1 without
enable_data_pre_proc (the migration guide's constraint: a 910 would train one host element K
times), and a loop variable that disagrees with the session config (a 910 would run the
variable's count).

Float status: the 910 computes in saturation mode and NPULossScaleOptimizer reads the device's
float-status register (NpuGetFloatStatusV2, int32[8], non-zero after an overflow anywhere on the
device since it was last cleared, forward pass included). Emulated from the gradients alone: the
status is non-zero when one of the wrapper's gradients is not finite or, with the knob below,
its loss-scaled value (what the device computed) is not below a bound. One rank only: the HCCL
path (NPUDistributedOptimizer, broadcast, the status summed over ranks) is wired but refuses a
rank size above 1. Knobs (environment variables, read when a graph is built):

- ``NPU_EMULATOR_OVERFLOW_ABOVE``: a float bound, e.g. 65504 (fp16's largest value): a scaled
  gradient at or above it overflows, as it would in the fp16 of ``allow_mix_precision``.
- ``NPU_EMULATOR_OVERFLOW_AT``: ``PREFIX:S1,S2;PREFIX2:S3``: the updates of a loss-scale wrapper
  whose variables' names start with PREFIX overflow while the global step is S1, S2, ...
"""
import os

import numpy as np
import tensorflow as _tf

tf = _tf.compat.v1
Session = tf.Session  # the class every TensorFlow session alias names

HERE = os.path.dirname(os.path.abspath(__file__))
SESSION_KEYS = os.path.join(HERE, '..', '..', 'data', 'ascend', 'npu_session_keys.txt')
PRECISION_MODES = ('force_fp32', 'allow_fp32_to_fp16', 'force_fp16', 'must_keep_origin_dtype',
                   'allow_mix_precision', 'cube_fp16in_fp32out', 'allow_mix_precision_fp16',
                   'allow_mix_precision_bf16', 'allow_fp32_to_bf16')  # npu_attrs.cc l. 1928
DUMP_MODES = ('input', 'output', 'all')  # npu_attrs.cc l. 269
DUMP_DEBUG_MODES = ('aicore_overflow', 'atomic_overflow', 'all')  # npu_attrs.cc l. 278
ITERATION_OP = 'IterationOp'
ITERATIONS_COLLECTION = 'npu_runconfig_iterations_per_loop'
_original = {}


class AdapterError(RuntimeError):
    """What the adapter would refuse (it logs FATAL or returns an error status)."""


def session_keys():
    """{key: AttrValue field} of every NpuOptimizer parameter the adapter reads."""
    keys = {}
    with open(SESSION_KEYS) as f:
        for line in f:
            if not line.startswith('#'):
                key, field = line.split()
                keys[key] = field
    return keys


def check_npu_parameters(parameters):
    """The NpuOptimizer parameter_map checked as the adapter reads it: {key: value}."""
    keys, values = session_keys(), {}
    for key, attr in parameters.items():
        if key not in keys:
            raise AdapterError('NpuOptimizer parameter {!r} is not one the adapter reads: it would '
                               'be ignored'.format(key))
        field = attr.WhichOneof('value')
        if field != keys[key]:
            raise AdapterError('NpuOptimizer parameter {!r} set as {}, but the adapter reads '
                               '.{}(): it would read a default'.format(key, field, keys[key]))
        value = getattr(attr, field)
        values[key] = value.decode() if isinstance(value, bytes) else value
    checks = [('precision_mode', PRECISION_MODES), ('dump_mode', DUMP_MODES),
              ('dump_debug_mode', DUMP_DEBUG_MODES)]
    for key, allowed in checks:
        if key in values and values[key] not in allowed:
            raise AdapterError('{} {!r} is not one of {}'.format(key, values[key], allowed))
    if (values.get('enable_dump') or values.get('enable_dump_debug')) and \
            not values.get('dump_path'):
        raise AdapterError('if use dump function, dump_path must be set.')
    if values.get('iterations_per_loop', 1) < 1:
        raise AdapterError('iterations_per_loop must be at least 1')
    return values


def _init(self, target='', graph=None, config=None):
    """tf.Session.__init__: an NpuOptimizer config is checked, then set aside for the CPU."""
    self._npu = None
    if config is not None:
        rewrites = config.graph_options.rewrite_options
        found = [i for i, o in enumerate(rewrites.custom_optimizers) if o.name == 'NpuOptimizer']
        if found:
            self._npu = check_npu_parameters(rewrites.custom_optimizers[found[0]].parameter_map)
            config = type(config).FromString(config.SerializeToString())
            del config.graph_options.rewrite_options.custom_optimizers[found[0]]
    _original['__init__'](self, target, graph, config)


def _run(self, fetches, feed_dict=None, options=None, run_metadata=None):
    """tf.Session.run: K device iterations when the run executes IterationOp (see the module)."""
    for _ in range(self._iterations(fetches)):
        result = _original['run'](self, fetches, feed_dict, options, run_metadata)
    return result


def _iterations(self, fetches):
    """The device iterations of a run of ``fetches``. The adapter loops the GeOp that holds
    IterationOp; here the run must fetch it (a group op, so nothing else depends on it), as the
    project's loop does."""
    loops = (getattr(self, '_npu', None) or {}).get('iterations_per_loop', 1)
    named = [getattr(f, 'name', None) for f in tf.nest.flatten(fetches)]
    if loops == 1 or ITERATION_OP not in named:
        return 1
    if self._npu.get('mix_compile_mode'):
        raise AdapterError('"iterations_per_loop" must be 1 with "mix_compile_mode" is True')
    if not self._npu.get('enable_data_pre_proc'):
        raise AdapterError('iterations_per_loop {} without enable_data_pre_proc: the loop would '
                           'train one host element {} times'.format(loops, loops))
    if any(op.type == 'OneShotIterator' for op in self.graph.get_operations()):
        raise AdapterError('iterator_per_loop only support 1 when using OneShotIterator')
    variable, = self.graph.get_collection(ITERATIONS_COLLECTION)
    bound = int(_original['run'](self, variable)) + 1
    if bound != loops:
        raise AdapterError('the session config says iterations_per_loop {}, the loop variable {} '
                           '(a 910 would run {} iterations)'.format(loops, bound, bound))
    return loops


def install():
    """Make every tf.Session an emulated NPU session where its config asks for NpuOptimizer."""
    if not _original:
        _original.update(__init__=Session.__init__, run=Session.run)
        Session.__init__, Session.run, Session._iterations = _init, _run, _iterations


def uninstall():
    if _original:
        Session.__init__, Session.run = _original.pop('__init__'), _original.pop('run')
        del Session._iterations


def overflow_bound():
    return float(os.environ.get('NPU_EMULATOR_OVERFLOW_ABOVE', np.inf))


def overflow_steps(variables):
    """The global steps at which the updates of ``variables`` overflow
    (NPU_EMULATOR_OVERFLOW_AT)."""
    steps = []
    for rule in filter(None, os.environ.get('NPU_EMULATOR_OVERFLOW_AT', '').split(';')):
        prefix, _, numbers = rule.partition(':')
        if variables and all(v.op.name.startswith(prefix) for v in variables):
            steps += [int(n) for n in numbers.split(',')]
    return steps


def float_status(grads_and_vars, loss_scale):
    """NpuGetFloatStatusV2's int32[8] after the step's gradients (down-scaled by
    ``loss_scale``, which they were computed at): word 0 is 1 on an overflow."""
    grads = [getattr(g, 'values', g) for g, _ in grads_and_vars if g is not None]
    bound = overflow_bound() / loss_scale
    overflow = [tf.logical_not(tf.reduce_all(tf.abs(g) < bound)) for g in grads]
    steps = overflow_steps([v for g, v in grads_and_vars if g is not None])
    if steps:
        overflow.append(tf.reduce_any(tf.equal(tf.train.get_global_step(), steps)))
    flag = tf.cast(tf.reduce_any(tf.stack(overflow)), tf.int32)
    return tf.pad(tf.reshape(flag, [1]), [[0, 7]])
