"""Every training step and every frozen generator, checked against Ascend's own rules.

Ascend's TF 1.15 adapter hands a node to the NPU only if its op type is listed in CANN's
npu_supported_ops.json; the rest stays in host TensorFlow, and a host op between device ops
splits a step into several device graphs. ATC, for a frozen .pb, needs a TF parser mapping of
every op type. The lists, with their provenance, are test/data/ascend/ascend_tf_ops.json (from
the CANN 8.1.RC1 toolkit and the Ascend adapter and parser sources). Graphs are built here in
the NPU's layout (NCHW) with a stand-in of npu_bridge's loss-scale optimizer of the same
structure (scaled loss, a finiteness flag, a tf.cond around the update) and its loop op, and
judged by the op types TF 1.15 emits. What only a 910 can tell (dtype and format support,
compile time, speed) is not checked.
"""
import collections
import json
import os

import numpy as np
import pytest

import configs
import datasets.base
from conftest import stand_in_npu_bridge
from tflib import distributed, flops
from tflib.compat import tf
from zoo import generators, settings, training

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, 'data', 'ascend', 'ascend_tf_ops.json')) as _f:
    OPS = json.load(_f)
ADAPTER = set(OPS['adapter_supported_tf_ops'])
HOST = set(OPS['host_ops'])
ATC = set(OPS['tf_parser_mapping']) | set(OPS['ge_builtin_tf_ops'])
# AI CPU kernels only: neither an AI Core kernel nor an op GE handles itself (shapes, control).
AICPU_ONLY = set(OPS['aicpu_tf_ops']) - set(OPS['aicore_tf_ops']) - set(OPS['ge_builtin_tf_ops'])
PROJECT = os.path.dirname(HERE)

TINY = {  # per model: settings that shrink its networks (the graph's op types stay)
    'transfer_gan': ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '4'],
    'wgan': ['--ngf', '4', '--ndf', '4', '--batch_size', '4'],
    'dcgan': ['--feature_size', '2', '--batch_size', '4'],
    'cgan': ['--batch_size', '4'],
    'pgan': ['--batch_size', '4', '--STABLE_IMAGES', '8', '--FADE_IMAGES', '8'],
}


def tf115_type(op_type):
    """What TF 1.15 emits for an op type TF 2.x emits (None: no such op in TF 1.15)."""
    return OPS['tf2_to_tf115'].get(op_type, op_type)


def is_host(op_type):
    return op_type in HOST or op_type.endswith(tuple(OPS['host_op_suffixes']))


def origin(op):
    """file:line of the project code that made ``op``."""
    frames = [(f[0], f[1]) if isinstance(f, tuple) else (f.filename, f.lineno)
              for f in op.traceback]
    mine = [(f, n) for f, n in frames if f.startswith(PROJECT) and '/test/' not in f and
            not f.endswith('compat.py')]
    return '{}:{}'.format(os.path.relpath(mine[-1][0], PROJECT), mine[-1][1]) if mine else '?'


def subgraph(targets):
    """The ops a session.run of ``targets`` executes."""
    return flops.ops_run_by(*targets)


def step_problems(targets, where):
    """What keeps the step of ``targets`` from being one device graph on Ascend: op types the
    adapter does not take, AI-CPU-only ops, host ops between device ops."""
    ops = subgraph(targets)
    problems, device = [], set()
    for op in ops:
        op_type = tf115_type(op.type)
        if op_type is None or is_host(op_type):
            continue
        if op_type not in ADAPTER:
            problems.append('{}: {} ({}) is in no CANN list of device ops: it stays on the host'
                            .format(where, op_type, origin(op)))
            continue
        if op_type in AICPU_ONLY:
            problems.append('{}: {} ({}) has only an AI CPU kernel'.format(
                where, op_type, origin(op)))
        device.add(op)
    inputs = {op: [t.op for t in op.inputs] + list(op.control_inputs) for op in ops}
    consumers = collections.defaultdict(list)
    for op, sources in inputs.items():
        for source in sources:
            consumers[source].append(op)

    def reaches_device(op, edges):
        stack, seen = list(edges[op]), set()
        while stack:
            other = stack.pop()
            if other in device:
                return True
            if other not in seen:
                seen.add(other)
                stack.extend(edges[other])
        return False

    for op in ops - device:
        if reaches_device(op, inputs) and reaches_device(op, consumers):
            problems.append('{}: host op {} {} ({}) sits between device ops: the step splits '
                            'into several device graphs'.format(where, op.type, op.name,
                                                                origin(op)))
    return problems


class LossScaleManager(object):
    """ExponentialUpdateLossScaleManager's graph: a scale variable, halved or grown by a
    tf.cond on the step's finiteness."""

    def __init__(self, init_loss_scale, incr_every_n_steps, decr_every_n_nan_or_inf=2,
                 decr_ratio=0.5):
        self.scale = tf.Variable(float(init_loss_scale), trainable=False, name='loss_scale')

    def update_loss_scale(self, finite):
        return tf.cond(finite, lambda: tf.assign(self.scale, self.scale * 2.),
                       lambda: tf.assign(self.scale, self.scale * .5))


class LossScaleOptimizer(tf.train.Optimizer):
    """NPULossScaleOptimizer's structure from TF ops: the loss times the scale, gradients
    divided by it, a finiteness flag (the real one reads the NPU's float status registers,
    NpuAllocFloatStatus / NpuGetFloatStatus, AI Core ops), the update inside a tf.cond."""

    def __init__(self, opt, loss_scale_manager, is_distributed=False):
        super(LossScaleOptimizer, self).__init__(False, 'NPULossScaleOptimizer')
        self.opt, self.manager = opt, loss_scale_manager

    def compute_gradients(self, loss, var_list=None, **kwargs):
        pairs = self.opt.compute_gradients(loss * self.manager.scale, var_list, **kwargs)

        def down(g):  # sparse gradients stay sparse, as TF's LossScaleOptimizer keeps them
            if isinstance(g, tf.IndexedSlices):
                return tf.IndexedSlices(g.values / self.manager.scale, g.indices, g.dense_shape)
            return None if g is None else g / self.manager.scale
        return [(down(g), v) for g, v in pairs]

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        finite = tf.reduce_all([tf.reduce_all(tf.abs(getattr(g, 'values', g)) < np.inf)
                                for g, _ in grads_and_vars if g is not None])
        def apply():
            with tf.control_dependencies([self.opt.apply_gradients(grads_and_vars, global_step,
                                                                   name)]):
                return tf.constant(True)

        update = tf.cond(finite, apply, lambda: tf.constant(False))
        return tf.group(update, self.manager.update_loss_scale(finite))


class IterationPerLoop(object):
    """npu_bridge's util.IterationPerLoop graph part: its loop variables (LOCAL_VARIABLES) and
    the ``IterationOp`` node the adapter looks for."""

    def create_iteration_per_loop_var(self, train_op):
        for name in ('iterations_per_loop', 'loop_cond', 'zero', 'one'):
            tf.Variable(0, dtype=tf.int64, name='npu_runconfig/' + name, trainable=False,
                        collections=[tf.GraphKeys.LOCAL_VARIABLES])
        return tf.group(train_op, name='IterationOp')

    def load_iteration_per_loop_var(self, sess, iterations_per_loop=1):
        raise AssertionError('not loaded in a graph test')


@pytest.fixture
def npu_standin(monkeypatch):
    members = {'estimator.npu.npu_loss_scale_manager': {'ExponentialUpdateLossScaleManager':
                                                        LossScaleManager},
               'estimator.npu.npu_loss_scale_optimizer': {'NPULossScaleOptimizer':
                                                          LossScaleOptimizer},
               'estimator.npu.util': {'IterationPerLoop': IterationPerLoop}}
    stand_in_npu_bridge(monkeypatch, members)


def preset_job(preset, *flags):
    """A one-rank NPU job of ``preset`` at a tiny width in NCHW, on random images."""
    req = settings.request(['--preset', preset, '--data_format', 'NCHW'] +
                           TINY[configs.load(preset)[0]] + list(flags))
    size, channels = req.values['IMAGE_SIZE'], req.values['CHANNELS']
    rng = np.random.RandomState(0)
    source = datasets.base.ArraySource('random', rng.randint(0, 256, (64, size, size, channels),
                                                             np.uint8), rng.randint(0, 10, 64), 10)
    resolved = settings.resolve(req, 'npu', source, distributed.SINGLE)
    return training.Job(resolved, source, 'npu', distributed.SINGLE, None, None)


def phase_kinds(schedule):
    """The first phase and, of a growing model, its first fade-in and the stable phase after."""
    fades = [i for i, phase in enumerate(schedule) if phase.settings.get('FADE')]
    return [schedule[0]] + ([schedule[fades[0]], schedule[fades[0] + 1]] if fades else [])


def training_problems(preset, *flags):
    job = preset_job(preset, *flags)
    problems = []
    for phase in phase_kinds(job.settings.model.phases(job.settings.model_cfg)):
        built = training.phase_graph(job, phase, phase.start)
        gan, where = built.gan, '{} {}'.format(preset, phase.name).strip()
        train = built.loop_op if built.loop_op is not None else gan.train_op
        problems += step_problems([train] + list(gan.train_metrics.values()), where)
        if gan.fused_critic_steps != max(gan.critic_steps(s) for s in range(phase.start,
                                                                            phase.end)):
            problems += step_problems([gan.critic_block_op], where + ' (critic block)')
    return problems


@pytest.mark.parametrize('preset', configs.names())
def test_every_training_step_is_one_device_graph(preset, npu_standin):
    problems = training_problems(preset)
    assert not problems, '\n'.join(sorted(set(problems)))


def test_the_npu_loop_op_is_one_device_graph(npu_standin):
    """With --iterations_per_loop, the session runs npu_bridge's IterationOp around the step."""
    job = preset_job('quickstart', '--iterations_per_loop', '4')
    built = training.phase_graph(job, job.settings.model.phases(job.settings.model_cfg)[0], 0)
    assert built.loop_op.name == 'IterationOp' and built.load_loop is not None
    assert not step_problems([built.loop_op] + list(built.gan.train_metrics.values()), 'loop')
    # The pipeline's iterator is initializable: with a one-shot iterator the adapter aborts
    # ("iterator_per_loop only support 1 when using OneShotIterator").
    types_ = {op.type for op in subgraph([built.loop_op])}
    assert 'OneShotIterator' not in types_ and 'IteratorGetNext' in types_


def test_the_check_finds_what_it_guards_against():
    """A stateless random op (the old per-step draws) and a host op fed by a device op and
    feeding one (the old counter-ordered IteratorGetNext) are both reported, with the code."""
    graph = tf.Graph()
    with graph.as_default():
        counter = tf.Variable(0, dtype=tf.int32)
        bumped = counter.assign_add(1)
        with tf.control_dependencies([bumped]):
            batch = tf.data.make_one_shot_iterator(tf.data.Dataset.from_tensors(
                tf.zeros([2, 3])).repeat()).get_next()
        noise = tf.random.stateless_normal([2, 3], seed=tf.stack([counter, 1]))
        loss = tf.reduce_sum(batch * noise)
        problems = step_problems([loss], 'demo')
    assert any('StatelessRandomNormal (' in p and 'test_ascend_graph' not in p and 'demo' in p
               for p in problems), problems
    assert any('host op IteratorGetNext' in p for p in problems), problems
    assert any('host op StatelessRandomNormal' in p for p in problems), problems
    with graph.as_default():
        clean = step_problems([tf.reduce_all(tf.abs(tf.zeros([2])) < np.inf)], 'clean')
        assert not clean and step_problems([tf.is_finite(tf.zeros([2]))], 'x')


@pytest.mark.parametrize('preset', configs.names())
def test_every_frozen_generator_converts_with_atc(preset):
    """Every op of the generator freeze_graph.py writes has a TF parser mapping in ATC."""
    job = preset_job(preset)
    model = job.settings.model
    # What freeze_graph builds: NHWC (the checkpoint's layout is free), the last phase.
    cfg = dict(job.settings.model_cfg, data_format='NHWC')
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        generators.generator_graph(model, cfg, model.phase_at(cfg, cfg['ITERS']), 4)
        session.run(tf.global_variables_initializer())
        frozen = tf.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), ['images', generators.SIGNATURE])
    missing = sorted(set(tf115_type(node.op) for node in frozen.node) - ATC - {None})
    assert not missing, '{}: no ATC parser mapping for {}'.format(preset, missing)
