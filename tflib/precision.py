"""Whether a session computes in reduced precision (``decide``), and on a CPU whether bfloat16
pays, measured on a training step's own heaviest products.

oneDNN's bfloat16 rewrite (``--mixed_precision`` on a CPU) runs convolutions and matmuls in
bf16 with casts around them. Whether that is faster depends on the CPU and its kernels, not on
its flags alone (1.75x to 1.8x faster on AMD Zen5 and Zen4, 1.57x slower on an Intel Xeon with
AVX512-BF16), so the product shapes of the model itself are timed both ways.
"""
import collections
import time

from tflib import device
from tflib.compat import tf
from tflib.flops import DENSE, op_flops, ops_run_by

Probe = collections.namedtuple('Probe', ['fp32', 'bf16', 'ops', 'gflop'])
# bf16 must beat fp32 by this factor to be chosen: timing noise must not flip the choice.
MARGIN = 0.9


def plain(op):
    """Whether ``replica`` rebuilds ``op`` exactly: no dilation, no explicit padding."""
    if op.type == 'MatMul':
        return True
    return set(op.get_attr('dilations')) == {1} and op.get_attr('padding') in (b'SAME',
                                                                                b'VALID')


def heaviest(target, limit):
    """The ``limit`` dense ops that ``target`` runs with the most FLOPs, one per distinct
    shape."""
    seen, found = set(), []
    for op in sorted((op for op in ops_run_by(target) if op.type in DENSE),
                     key=lambda op: (op_flops(op), op.name), reverse=True):
        key = (op.type, tuple(tuple(t.shape.as_list()) for t in op.inputs))
        if key not in seen and op_flops(op) and plain(op):
            seen.add(key)
            found.append(op)
    return found[:limit]


def replica(op):
    """``op`` again in the current graph, on variables of its input shapes (drawn in the
    graph: numpy values would be copied into the graph and every session made of it)."""
    def variable(tensor):
        return tf.Variable(tf.random_normal(tensor.shape.as_list(), stddev=.1, seed=1))
    if op.type == 'MatMul':
        return tf.matmul(variable(op.inputs[0]), variable(op.inputs[1]),
                         transpose_a=op.get_attr('transpose_a'),
                         transpose_b=op.get_attr('transpose_b'))
    conv = dict(strides=op.get_attr('strides'), padding=op.get_attr('padding'),
                data_format=op.get_attr('data_format').decode())
    if op.type == 'Conv2D':
        return tf.nn.conv2d(variable(op.inputs[0]), variable(op.inputs[1]), **conv)
    if op.type == 'Conv2DBackpropInput':
        return tf.nn.conv2d_backprop_input(op.outputs[0].shape.as_list(),
                                           variable(op.inputs[1]), variable(op.inputs[2]),
                                           **conv)
    return tf.nn.conv2d_backprop_filter(variable(op.inputs[0]), op.outputs[0].shape.as_list(),
                                        variable(op.inputs[2]), **conv)


def probe(target, threads=0, limit=4, repeats=3):
    """A ``Probe``: the best seconds of ``repeats`` runs of the ``limit`` heaviest products
    that ``target`` (a train op) runs, in fp32 and under the bf16 rewrite; how many ops and
    their GFLOP."""
    ops = heaviest(target, limit)
    timing = tf.Graph()
    with timing.as_default():
        outputs = [replica(op) for op in ops]
        fetch = tf.add_n([tf.reduce_sum(out) for out in outputs])
        init = tf.global_variables_initializer()
    seconds = []
    for bf16 in (False, True):
        config = device.session_config('cpu', threads=threads, mixed_precision=bf16)
        with tf.Session(graph=timing, config=config) as session:
            session.run(init)
            session.run(fetch)  # the first run builds the kernels
            runs = []
            for _ in range(repeats):
                start = time.perf_counter()
                session.run(fetch)
                runs.append(time.perf_counter() - start)
        seconds.append(min(runs))
    return Probe(seconds[0], seconds[1], len(ops), sum(op_flops(op) for op in ops) / 1e9)


def bf16_pays(result):
    """Whether bf16 takes at most MARGIN of fp32's time (at least 1.11x faster)."""
    return result.bf16 < MARGIN * result.fp32


def summary(result):
    return 'mixed precision probe, the {} heaviest products of a step ({:.1f} GFLOP): fp32 ' \
           '{:.1f} ms, bf16 {:.1f} ms'.format(result.ops, result.gflop, result.fp32 * 1e3,
                                              result.bf16 * 1e3)


def decide(dev, mode, parallel, train_op, threads=0):
    """Whether a session on ``dev`` computes ``train_op`` in reduced precision: on a GPU with
    --mixed_precision (``mode``) true (fp16); on a CPU with true, or with auto where a probe
    of the step's own products measures bf16 faster (the figures go to the log, and a forced
    bf16 that measures slower gets a warning); on an NPU precision_mode decides instead.
    ``parallel``: a data-parallel run, whose ranks must compute alike, probes nothing."""
    if dev != 'cpu' or mode == 'false':
        if mode == 'auto':
            print('--mixed_precision auto decides on CPUs; {}'.format(
                'on a GPU it means false' if dev == 'gpu' else
                'on an NPU --precision_mode decides'))
        return mode == 'true' and dev == 'gpu'
    if not device.bf16_rewrite_available():
        if mode == 'true':
            return True  # the session config says what this TensorFlow lacks
        print('--mixed_precision auto: TensorFlow {} has no oneDNN bfloat16 rewrite: fp32'
              .format(tf.__version__))
        return False
    if parallel:  # ranks timing at once on shared cores could choose apart
        if mode == 'auto':
            print('--mixed_precision auto: not in a data-parallel run, where every rank must '
                  'compute alike: fp32 (pass true for bf16)')
        return mode == 'true'
    result = probe(train_op, threads)
    use = mode == 'true' or bf16_pays(result)
    print('{}: training in {}'.format(summary(result), 'bf16' if use else 'fp32'))
    if mode == 'true' and result.bf16 > result.fp32:
        print('warning: --mixed_precision true, but bf16 is {:.2f}x slower than fp32 on this '
              'CPU; --mixed_precision auto would train in fp32'.format(
                  result.bf16 / result.fp32))
    return use
