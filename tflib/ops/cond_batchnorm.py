"""Conditional batch normalisation (Dumoulin et al. 2016; tflib ``cond_batchnorm``): batch
statistics, then a per-class affine. Keys ``name.offset`` and ``name.scale`` [n_labels, C]; the
original has no moving statistics here, so neither does this."""
from tflib import layout, params
from tflib.compat import tf
from tflib.ops import embedding

EPSILON = 1e-5


def Batchnorm(name, inputs, labels, n_labels):
    channels = int(inputs.shape[layout.channel_axis()])
    mean, variance = tf.nn.moments(inputs, [0] + layout.spatial_axes(), keep_dims=True)
    offset = params.param(name + '.offset', [n_labels, channels], params.constant(0.))
    scale = params.param(name + '.scale', [n_labels, channels], params.constant(1.))
    offset = layout.broadcast_channels(embedding.lookup(offset, labels))
    scale = layout.broadcast_channels(embedding.lookup(scale, labels))
    return tf.nn.batch_normalization(inputs, mean, variance, offset, scale, EPSILON)
