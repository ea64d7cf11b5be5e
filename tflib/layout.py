"""The module-wide data format (NCHW or NHWC) and the helpers that depend on it.

Filters are HWIO and Linear weights act on NCHW-ordered features in both layouts, so one
checkpoint gives the same images whichever layout the graph was built in. Images enter and
leave every network as NHWC; the networks convert at their edges.
"""
import contextlib

import numpy as np

from tflib.compat import tf
from tflib.config import ConfigError

FORMATS = ('NCHW', 'NHWC')
_format = ['NHWC']


def data_format():
    return _format[-1]


@contextlib.contextmanager
def using(fmt):
    """Build the ops inside the block in layout ``fmt``."""
    _format.append(check(fmt))
    try:
        yield
    finally:
        _format.pop()


def check(fmt):
    if fmt not in FORMATS:
        raise ConfigError('data_format must be one of {}, got {!r}'.format(FORMATS, fmt))
    return fmt


def channel_axis():
    return 1 if data_format() == 'NCHW' else 3


def spatial_axes():
    return [2, 3] if data_format() == 'NCHW' else [1, 2]


def broadcast_channels(v):
    """Reshape a [C] (or per-sample [N, C]) vector to broadcast against a 4-D feature map."""
    if data_format() == 'NCHW':
        return v[..., None, None]
    return v[..., None, None, :] if v.shape.ndims == 2 else v


@tf.RegisterGradient('StaticTranspose')
def _static_transpose_grad(op, grad):
    """The transpose by the inverse permutation, computed here rather than by TF's
    InvertPermutation op (AI CPU only on Ascend); itself twice differentiable the same way."""
    return transpose(grad, np.argsort(tf.get_static_value(op.inputs[1]))), None


def transpose(x, perm):
    """``tf.transpose`` by a constant ``perm`` whose gradients need no InvertPermutation."""
    with tf.get_default_graph().gradient_override_map({'Transpose': 'StaticTranspose'}):
        return tf.transpose(x, [int(p) for p in perm])


def from_nhwc(images):
    return transpose(images, [0, 3, 1, 2]) if data_format() == 'NCHW' else images


def to_nhwc(x):
    return transpose(x, [0, 2, 3, 1]) if data_format() == 'NCHW' else x


def unflatten_nchw(x, channels, height, width):
    """[N, C*H*W] in NCHW order (a Linear layer's output) -> feature map in the current layout."""
    x = tf.reshape(x, [-1, channels, height, width])
    return x if data_format() == 'NCHW' else transpose(x, [0, 2, 3, 1])


def flatten_nchw(x):
    """Feature map in the current layout -> [N, C*H*W] in NCHW order (a Linear layer's input)."""
    if data_format() == 'NHWC':
        x = transpose(x, [0, 3, 1, 2])
    return tf.reshape(x, [-1, int(x.shape[1]) * int(x.shape[2]) * int(x.shape[3])])
