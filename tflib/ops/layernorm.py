"""Layer normalisation (tflib ``Layernorm``): statistics over every axis but the batch, and a
per-channel affine. Keys ``name.offset`` and ``name.scale`` [C], with no name scope. It keeps the
gradient penalty valid, which batch statistics would not (WGAN-GP paper, §4)."""
from tflib import layout, params
from tflib.compat import tf

EPSILON = 1e-5


def Layernorm(name, inputs):
    """Normalise each sample of a feature map in the current layout, or of [N, C]."""
    axes = list(range(1, inputs.shape.ndims))
    channel_axis = 1 if inputs.shape.ndims == 2 else layout.channel_axis()
    channels = int(inputs.shape[channel_axis])
    mean, variance = tf.nn.moments(inputs, axes, keep_dims=True)
    offset = params.param(name + '.offset', [channels], params.constant(0.))
    scale = params.param(name + '.scale', [channels], params.constant(1.))
    if inputs.shape.ndims == 4:
        offset, scale = layout.broadcast_channels(offset), layout.broadcast_channels(scale)
    return tf.nn.batch_normalization(inputs, mean, variance, offset, scale, EPSILON)
