"""Every training step and every frozen generator, checked against Ascend's own rules.

Ascend's TF 1.15 adapter hands a node to the NPU only if its op type is listed in CANN's
npu_supported_ops.json; the rest stays in host TensorFlow, and a host op between device ops
splits a step into several device graphs. ATC, for a frozen .pb, needs a TF parser mapping of
every op type. The lists, with their provenance, are test/data/ascend/ascend_tf_ops.json (from
the CANN 8.1.RC1 toolkit and the Ascend adapter and parser sources). Graphs are built here in
the NPU's layout (NCHW) with npu_bridge's loss-scale optimizer and loop op as
test/npu_emulator emulates them, and judged by the op types TF 1.15 emits; each op's dtype under
the precision mode is then checked against CANN's kernel tables (test/ascend_dtypes.py). What
only a 910 can tell (whether the ops the tables cannot prove compile, compile time, speed) is
not checked.
"""
import collections
import json
import os

import numpy as np
import pytest

import ascend_dtypes
import configs
import datasets.base
from conftest import TINY_FLAGS, random_source
from tflib import device, distributed, flops, layout
from tflib.ops import resample
from tflib.compat import IS_TF2, tf
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
    problems, on_device = [], set()
    for op in ops:
        op_type = tf115_type(op.type)
        if ascend_dtypes.is_float_status(op):  # on a 910, NpuGetFloatStatusV2 and its clear
            on_device.add(op)
            continue
        if op_type is None or is_host(op_type):
            continue
        if op_type not in ADAPTER:
            problems.append('{}: {} ({}) is in no CANN list of device ops: it stays on the host'
                            .format(where, op_type, origin(op)))
            continue
        if op_type in AICPU_ONLY:
            problems.append('{}: {} ({}) has only an AI CPU kernel'.format(
                where, op_type, origin(op)))
        on_device.add(op)
    inputs = {op: [t.op for t in op.inputs] + list(op.control_inputs) for op in ops}
    consumers = collections.defaultdict(list)
    for op, sources in inputs.items():
        for source in sources:
            consumers[source].append(op)

    def reaches_device(op, edges):
        stack, seen = list(edges[op]), set()
        while stack:
            other = stack.pop()
            if other in on_device:
                return True
            if other not in seen:
                seen.add(other)
                stack.extend(edges[other])
        return False

    for op in ops - on_device:
        if reaches_device(op, inputs) and reaches_device(op, consumers):
            problems.append('{}: host op {} {} ({}) sits between device ops: the step splits '
                            'into several device graphs'.format(where, op.type, op.name,
                                                                origin(op)))
    return problems


def preset_job(preset, *flags):
    """A one-rank NPU job of ``preset`` at a tiny width in NCHW, on random images."""
    req = settings.request(['--preset', preset, '--data_format', 'NCHW'] +
                           TINY_FLAGS[configs.load(preset)[0]] + list(flags))
    source, held_out = random_source(req.values['IMAGE_SIZE'], req.values['CHANNELS']), None
    if req.values['holdout']:
        source, held_out = datasets.base.split(source, req.values['holdout'])
    resolved = settings.resolve(req, 'npu', source, distributed.SINGLE)
    return training.Job(resolved, source, held_out, 'npu', distributed.SINGLE, None, None)


def phase_kinds(schedule):
    """The first phase and, of a growing model, its first fade-in and the stable phase after."""
    fades = [i for i, phase in enumerate(schedule) if phase.settings.get('FADE')]
    return [schedule[0]] + ([schedule[fades[0]], schedule[fades[0] + 1]] if fades else [])


TRAINING_CHIPS = ('ascend910', 'ascend910b')
INFERENCE_CHIPS = ('ascend310', 'ascend310p', 'ascend910')  # ATC's inference default: force_fp16


def dtype_problems(ops, where, chips, mode):
    return [p for soc in chips for p in ascend_dtypes.problems(
        ascend_dtypes.dtype_map(ops, soc, mode), '{} on {}'.format(where, soc))]


def training_problems(preset, *flags):
    job = preset_job(preset, *flags)
    problems = []
    for phase in phase_kinds(job.settings.model.phases(job.settings.model_cfg)):
        built = training.phase_graph(job, phase, phase.start)
        gan, where = built.gan, '{} {}'.format(preset, phase.name).strip()
        train = built.loop_op if built.loop_op is not None else gan.train_op
        targets = [train] + list(gan.train_metrics.values())
        problems += step_problems(targets, where)
        problems += dtype_problems(subgraph(targets), where, TRAINING_CHIPS,
                                   'allow_mix_precision')
        if gan.fused_critic_steps != max(gan.critic_steps(s) for s in range(phase.start,
                                                                            phase.end)):
            problems += step_problems([gan.critic_block_op], where + ' (critic block)')
    return problems


@pytest.mark.parametrize('preset', configs.names())
@pytest.mark.slow
def test_every_training_step_is_one_device_graph_of_kernels(preset, npu_emulator):
    """One device graph of listed ops, each with a kernel column for the dtype it computes in
    under allow_mix_precision on a 910 and a 910B (test/ascend_dtypes.py)."""
    problems = training_problems(preset)
    assert not problems, '\n'.join(sorted(set(problems)))


@pytest.mark.parametrize('preset,adaptive', [('quickstart', []), ('transfer_gan_lsun64', []),
                                             ('quickstart', ['--ada_target', '.3',
                                                             '--holdout', '8'])])
def test_diffaug_and_freeze_d_steps_are_one_device_graph_of_kernels(preset, adaptive,
                                                                    npu_emulator):
    """DiffAugment's transforms (arithmetic and batched products on host draws), its adaptive
    strength's gates and update, and a critic update over fewer variables keep the step one
    device graph with AI Core kernels."""
    problems = training_problems(preset, '--diffaug', 'color,translation,cutout', '--freeze_d',
                                 '2', '--finetune_from', 'source.ckpt', *adaptive)
    assert not problems, '\n'.join(sorted(set(problems)))


@pytest.mark.parametrize('preset', ['quickstart', 'cgan_mnist'])
def test_the_generator_average_is_part_of_the_device_step(preset, npu_emulator):
    """--G_ema's update, its ramp computed from the step, runs in the one device graph."""
    flags = ('--G_ema', '.999', '--G_ema_rampup', '.05')
    problems = training_problems(preset, *flags)
    assert not problems, '\n'.join(sorted(set(problems)))
    def averages_updated(ops):
        return [op for op in ops if op.type == 'AssignSub' and
                op.inputs[0].op.name.startswith('Gs.')]
    assert averages_updated(flagship_step(*flags)) and not averages_updated(flagship_step())


def flagship_step(*flags):
    """The ops of the flagship's training step (NCHW, tiny width: the op types and counts of
    the full width)."""
    job = preset_job('transfer_gan_cifar10', *flags)
    built = training.phase_graph(job, job.settings.model.phases(job.settings.model_cfg)[0], 0)
    return subgraph([built.gan.train_op] + list(built.gan.train_metrics.values()))


def fp16_map(verdicts):
    """The markdown table of docs/ascend.md: op types by the dtype they compute in, and what
    the table cannot prove."""
    by_type, unproven = ascend_dtypes.summary(verdicts)
    why = {}
    for v in verdicts.values():
        if v.unproven or v.fits is None:
            why[v.op.type] = v.unproven or 'no dtypes in the table'
    lines = ['| op type | fp16 | fp32 | unproven by the table |', '| --- | --- | --- | --- |']
    for op_type in sorted(set(t for t, _ in by_type)):
        lines.append('| {} | {} | {} | {} |'.format(
            op_type, by_type.get((op_type, 'fp16'), '') or '',
            by_type.get((op_type, 'fp32'), '') or '', why.get(op_type, '')))
    lines.append('| all | {} | {} | {} ops of {} types |'.format(
        sum(n for (_, d), n in by_type.items() if d == 'fp16'),
        sum(n for (_, d), n in by_type.items() if d == 'fp32'),
        sum(unproven.values()), len(unproven)))
    return '\n'.join(lines)


@pytest.mark.skipif(IS_TF2, reason='the docs show the graph TF 1.15, Ascend\'s TensorFlow, '
                                   'builds; TF 2.x builds other gradient ops')
def test_the_flagships_fp16_map_is_the_one_in_the_docs(npu_emulator):
    """docs/ascend.md shows what each op of the flagship's step computes in on a 910 under
    allow_mix_precision, and which ops the tables cannot prove."""
    table = fp16_map(ascend_dtypes.dtype_map(flagship_step(), 'ascend910',
                                             'allow_mix_precision'))
    with open(os.path.join(PROJECT, 'docs', 'ascend.md')) as f:
        docs = f.read()
    assert table in docs, 'docs/ascend.md should hold this table:\n' + table


@pytest.mark.slow
def test_the_dtype_check_finds_what_it_guards_against(npu_emulator):
    """must_keep_origin_dtype keeps the convolution gradients in fp32, which the 910's
    Conv2DBackpropInput and Conv2DBackpropFilter do not take (the 910B does); the 910 has no
    bf16 kernels but TransData (so gan_train.py warns of these modes); and AvgPool takes fp16
    only: on PGAN's fp32 real images it has no column (the project pools by strided slices on
    an NPU)."""
    ops = flagship_step()
    found = dtype_problems(ops, 'flagship', ('ascend910',), 'must_keep_origin_dtype')
    assert {p.split(': ')[1].split(' ')[0] for p in found} == {'Conv2DBackpropInput',
                                                               'Conv2DBackpropFilter'}, found
    assert not dtype_problems(ops, 'flagship', ('ascend910b',), 'must_keep_origin_dtype')
    bf16 = {op for op, entry in ascend_dtypes.TABLES['ascend910'].items()
            if any('bfloat16' in (v.get('dtype') or '') for v in entry.values()
                   if isinstance(v, dict))}
    assert bf16 == {'TransData'}
    assert set(device.PRECISION_LIMITS) == {'must_keep_origin_dtype', 'allow_mix_precision_bf16',
                                            'allow_fp32_to_bf16'}
    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [4, 3, 8, 8])
        with resample.pooling('avg_pool'), layout.using('NCHW'):
            pooled = resample.mean_pool(images)
        with resample.pooling('slices'), layout.using('NCHW'):
            sliced = resample.mean_pool(images)
    assert dtype_problems(subgraph([pooled]), 'avg_pool', ('ascend910',), 'allow_mix_precision')
    assert not dtype_problems(subgraph([sliced]), 'slices', ('ascend910',),
                              'allow_mix_precision')


@pytest.mark.slow
def test_the_npu_loop_op_is_one_device_graph(npu_emulator):
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
    """Every op of the generator freeze_graph.py writes has a TF parser mapping in ATC and a
    kernel column for its dtype under ATC's inference default (force_fp16) on a 310, a 310P
    and a 910, and is one gan_eval.py runs (the union of these is zoo/generators.py's
    GENERATOR_OPS)."""
    job = preset_job(preset)
    model = job.settings.model
    # What freeze_graph builds: NHWC (the checkpoint's layout is free), the last phase, and a
    # growing model's last fade-in (a checkpoint taken there exports mid-fade).
    cfg = dict(job.settings.model_cfg, data_format='NHWC')
    fades = [phase for phase in model.phases(cfg) if phase.settings.get('FADE')]
    for phase in [model.phase_at(cfg, cfg['ITERS'])] + fades[-1:]:
        graph = tf.Graph()
        with graph.as_default(), tf.Session(graph=graph) as session:
            generators.generator_graph(model, cfg, phase, 4)
            session.run(tf.global_variables_initializer())
            frozen = tf.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), ['images', generators.SIGNATURE])
        missing = sorted(set(tf115_type(node.op) for node in frozen.node) - ATC - {None})
        assert not missing, '{}: no ATC parser mapping for {}'.format(preset, missing)
        unlisted = sorted(set(node.op for node in frozen.node) - generators.GENERATOR_OPS)
        assert not unlisted, '{} {}: add {} to zoo/generators.py GENERATOR_OPS, or gan_eval.py ' \
            'will refuse its export'.format(preset, phase.name, unlisted)
        with tf.Graph().as_default() as imported:
            tf.import_graph_def(frozen, name='')
        problems = dtype_problems(set(imported.get_operations()), preset, INFERENCE_CHIPS,
                                  'force_fp16')
        assert not problems, '\n'.join(sorted(set(problems)))
