"""PGAN's layers (Karras et al., ICLR 2018, §4; tkarras networks.py).

Equalized learning rate: weights are stored as N(0, 1) draws and multiplied at run time by
He's constant gain / sqrt(fan_in), so Adam's scale-free steps change every layer at the same
relative rate. Keys follow tflib: ``name/name.W`` and ``name/name.b`` (zero biases).
"""
import numpy as np

from tflib import layout, params
from tflib.compat import tf

HE_GAIN = np.sqrt(2.)


def _weight(name, shape, fan_in, gain):
    return params.param(name + '.W', shape, params.normal(1.), scope=name) * \
        float(gain / np.sqrt(fan_in))


def _bias(name, x, axis):
    bias = params.param(name + '.b', [int(x.shape[axis])], params.constant(0.), scope=name)
    if axis == 1 and x.shape.ndims == 4:
        return x + bias[:, None, None]
    return x + bias


def dense(name, x, fmaps, gain=HE_GAIN):
    """Fully connected; a feature map is flattened in NCHW order (tflib's convention)."""
    if x.shape.ndims == 4:
        x = layout.flatten_nchw(x)
    fan_in = int(x.shape[1])
    with tf.name_scope(name):
        return _bias(name, tf.matmul(x, _weight(name, [fan_in, fmaps], fan_in, gain)), 1)


def conv2d(name, x, fmaps, kernel, gain=HE_GAIN):
    """'SAME' convolution in the current layout; filters HWIO."""
    channels = int(x.shape[layout.channel_axis()])
    fan_in = channels * kernel ** 2
    with tf.name_scope(name):
        w = _weight(name, [kernel, kernel, channels, fmaps], fan_in, gain)
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME', data_format=layout.data_format())
        return _bias(name, y, layout.channel_axis())


def pixel_norm(x, epsilon=1e-8):
    """Each pixel's feature vector scaled to unit mean square (§4.2)."""
    axis = 1 if x.shape.ndims == 2 else layout.channel_axis()
    return x * tf.rsqrt(tf.reduce_mean(tf.square(x), axis=axis, keepdims=True) + epsilon)


def minibatch_stddev(x, group_size=4):
    """§3: one more feature map, the standard deviation of each feature over a group of
    samples averaged over features and pixels. Groups take every M-th sample (M = N / group
    size), as tkarras's reshape to [G, M, ...] does; N must be a multiple of the group size
    or below it."""
    n = int(x.shape[0])
    group = min(group_size, n)
    if n % group:
        raise ValueError('minibatch stddev: batch {} is not a multiple of group size {}'.format(
            n, group))
    shape = x.shape.as_list()
    y = tf.reshape(x, [group, -1] + shape[1:])
    y = tf.sqrt(tf.reduce_mean(tf.square(y - tf.reduce_mean(y, axis=0)), axis=0) + 1e-8)
    y = tf.reduce_mean(y, axis=[1, 2, 3])  # [M]
    if layout.data_format() == 'NCHW':
        y = tf.tile(tf.reshape(y, [-1, 1, 1, 1]), [group, 1, shape[2], shape[3]])
    else:
        y = tf.tile(tf.reshape(y, [-1, 1, 1, 1]), [group, shape[1], shape[2], 1])
    return tf.concat([x, y], axis=layout.channel_axis())
