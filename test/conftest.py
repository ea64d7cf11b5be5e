"""Shared fixtures: fresh seeded graphs, the data formats this CPU can run, tiny configs."""
import contextlib

import numpy as np
import pytest

from tflib import layout
from tflib.compat import tf

TINY = {
    'cifar_resnet': dict(ARCH='cifar_resnet', IMAGE_SIZE=16, DIM_G=8, DIM_D=8, N_CLASSES=3,
                         Z_DIM=6),
    'good_resnet': dict(ARCH='good_resnet', IMAGE_SIZE=32, DIM_G=2, DIM_D=2, N_CLASSES=3,
                        Z_DIM=6, NORMALIZATION_D=True),
}


@contextlib.contextmanager
def new_session(seed=0):
    """A fresh graph with a graph-level seed, and a session on it."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        with tf.Session(graph=graph) as session:
            yield session


def _nchw_runs():
    """TF 1.15's stock CPU kernels have no NCHW convolution; TF 2.x's oneDNN ones do."""
    with new_session() as session:
        x = tf.ones([1, 2, 4, 4])
        y = tf.nn.conv2d(x, tf.ones([3, 3, 2, 2]), [1, 1, 1, 1], 'SAME', data_format='NCHW')
        try:
            session.run(tf.gradients(tf.reduce_sum(y * y), x))
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
            return False
    return True


NCHW_RUNS = _nchw_runs()


@pytest.fixture(params=layout.FORMATS)
def data_format(request):
    """Each data format; NCHW is skipped where this CPU's TensorFlow cannot run it."""
    if request.param == 'NCHW' and not NCHW_RUNS:
        pytest.skip('this TensorFlow has no NCHW convolutions on CPU')
    return request.param


@pytest.fixture
def rng():
    return np.random.RandomState(1234)
