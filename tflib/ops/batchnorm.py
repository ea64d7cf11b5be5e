"""Batch normalisation (tflib ``Batchnorm``, fused): keys ``name.offset``, ``name.scale``,
``name.moving_mean`` and ``name.moving_variance`` [C], with no name scope.

Training mode normalises with batch statistics, as every script of the original does (there the
moving statistics are created and saved but never updated). Here ``update_moving_stats`` adds
exponential-moving-average updates to ``tf.GraphKeys.UPDATE_OPS`` so that inference mode
(``is_training=False``), which normalises with the moving statistics, has real ones to use.
Batch statistics can also be replaced by population ones (tflib/ops/population.py).
"""
from tflib import layout, params
from tflib.compat import tf
from tflib.ops import population

EPSILON = 1e-5


def Batchnorm(name, inputs, is_training=True, update_moving_stats=False, momentum=0.9,
              scale_init=None):
    """Per-channel BN of a feature map in the current layout, or per-feature BN of [N, C].
    ``scale_init`` replaces the scales' initial value of 1."""
    dense = inputs.shape.ndims == 2
    fmt = 'NHWC' if dense else layout.data_format()
    x = inputs[:, None, None, :] if dense else inputs
    channels = int(x.shape[1 if fmt == 'NCHW' else 3])
    offset = params.param(name + '.offset', [channels], params.constant(0.))
    scale = params.param(name + '.scale', [channels], scale_init or params.constant(1.))
    moving_mean = params.param(name + '.moving_mean', [channels], params.constant(0.),
                               trainable=False)
    moving_variance = params.param(name + '.moving_variance', [channels], params.constant(1.),
                                   trainable=False)
    fixed = population.statistics(name) if is_training else (moving_mean, moving_variance)
    if fixed is None:
        population.record(name, x, [0, 2, 3] if fmt == 'NCHW' else [0, 1, 2])
        out, mean, variance = tf.nn.fused_batch_norm(x, scale, offset, epsilon=EPSILON,
                                                     data_format=fmt)
        if update_moving_stats:
            for var, value in ((moving_mean, mean), (moving_variance, variance)):
                update = tf.assign_sub(var, (1. - momentum) * (var - value))
                tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, update)
    else:
        out, _, _ = tf.nn.fused_batch_norm(x, scale, offset, mean=fixed[0], variance=fixed[1],
                                           epsilon=EPSILON, data_format=fmt, is_training=False)
    return out[:, 0, 0, :] if dense else out
