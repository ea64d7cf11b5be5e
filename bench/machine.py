"""What the benchmarks share: the machine's measured matmul peak, peak memory, timing and the
one ``RESULT key=value ...`` line each benchmark ends with."""
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tflib.compat import tf  # noqa: E402  (after the path fix, so bench/ runs from anywhere)


def matmul_peak_gflops(size=2048, chain=8, repeats=5, dtype='float32', threads=0):
    """Dense matmul GFLOP/s of this TF on this machine: the best of ``repeats`` runs of a chain
    of ``chain`` [size x size] products in one session call (so call overhead is negligible)."""
    graph = tf.Graph()
    with graph.as_default():
        # A variable, not a constant: grappler would fold a constant chain away.
        a = tf.cast(tf.Variable(np.random.RandomState(0).randn(size, size).astype('float32')
                                / size), dtype)
        x = a
        for _ in range(chain):
            x = tf.matmul(x, a)
        out = tf.reduce_sum(tf.cast(x, tf.float32))
    config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                            inter_op_parallelism_threads=threads)
    with tf.Session(graph=graph, config=config) as session:
        session.run(tf.variables_initializer(graph.get_collection('variables')))
        session.run(out)
        best = min(timed(lambda: session.run(out)) for _ in range(repeats))
    return 2. * size ** 3 * chain / best / 1e9


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values):
    return float(np.median(values))


def max_rss_gib():
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2. ** 20


def result(**pairs):
    """The benchmark's last line: ``RESULT key=value ...`` (floats with 4 significant digits)."""
    line = 'RESULT ' + ' '.join('{}={}'.format(k, '{:.4g}'.format(v) if isinstance(v, float)
                                               else v) for k, v in pairs.items())
    print(line, flush=True)
    return line
