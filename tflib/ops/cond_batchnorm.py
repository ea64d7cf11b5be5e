"""Conditional batch normalisation (Dumoulin et al. 2016; tflib ``cond_batchnorm``): batch
statistics, then a per-class affine. Keys ``name.offset`` and ``name.scale`` [n_labels, C]; the
original has no moving statistics here, so neither does this; population ones can replace the
batch's (tflib/ops/population.py)."""
from tflib import layout, params
from tflib.compat import tf
from tflib.ops import embedding, population

EPSILON = 1e-5


def Batchnorm(name, inputs, labels, n_labels):
    channels = int(inputs.shape[layout.channel_axis()])
    axes = [0] + layout.spatial_axes()
    fixed = population.statistics(name)
    if fixed is None:
        population.record(name, inputs, axes)
        mean, variance = tf.nn.moments(inputs, axes, keep_dims=True)
    else:
        mean, variance = (layout.broadcast_channels(v[None]) for v in fixed)
    offset = params.param(name + '.offset', [n_labels, channels], params.constant(0.))
    scale = params.param(name + '.scale', [n_labels, channels], params.constant(1.))
    offset = layout.broadcast_channels(embedding.lookup(offset, labels))
    scale = layout.broadcast_channels(embedding.lookup(scale, labels))
    return tf.nn.batch_normalization(inputs, mean, variance, offset, scale, EPSILON)
