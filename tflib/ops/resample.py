"""The ResNet resampling helpers of gan_cifar_resnet.py / transfer_gan.py.

Mean pooling has two forms of one function, both with the second-order gradients the gradient
penalty needs: AvgPool (gradient AvgPoolGrad, whose gradient is AvgPool again), the faster on
CPUs and GPUs, and the original's average of four strided slices, the form for Ascend: CANN's
910 kernels of AvgPool and AvgPoolGrad take fp16 only and need a compile-time support check,
while the slices and their gradients compiled on a real 910 in the Ascend port of
Transferring-GAN. ``pooling(form)`` picks one for the ops built inside it. Upsampling is
nearest-neighbour through depth_to_space.
"""
import contextlib

from tflib import layout
from tflib.compat import IS_TF2, tf
from tflib.ops.conv2d import Conv2D

POOLINGS = ('avg_pool', 'slices')
_pooling = ['avg_pool']


@contextlib.contextmanager
def pooling(form):
    """Build the mean pools inside the block in ``form`` (one of POOLINGS)."""
    if form not in POOLINGS:
        raise ValueError('mean pool form must be one of {}, got {!r}'.format(POOLINGS, form))
    _pooling.append(form)
    try:
        yield
    finally:
        _pooling.pop()


@tf.RegisterGradient('ConstantScale')
def _constant_scale_grad(op, grad):
    """The gradient of ``_scale``: the same scaling again. TF 1.15's own gradient of a product
    with a scalar sums over BroadcastGradientArgs' axes, and that sum's gradient (the penalty's
    second order) needs DynamicStitch, an AI CPU op on Ascend."""
    return _scale(grad, float(tf.get_static_value(op.inputs[1]))), None


def _scale(x, factor):
    """``x`` times the constant ``factor``, twice differentiable with AI Core ops only."""
    with tf.get_default_graph().gradient_override_map({'Mul': 'ConstantScale'}):
        return tf.multiply(x, tf.constant(factor, x.dtype))


def mean_pool(x):
    """2x2 average pooling. On CPU the original's four strided slices spent half of a critic
    step in their gradients (StridedSliceGrad); a reshape and a mean, 1.5x faster, still took 7%
    of the flagship's step in Mean and the Sum / Tile of its gradients; AvgPool is 1.07x
    (TF 2.21) and 1.19x (TF 1.15) faster again per generator iteration."""
    nchw = layout.data_format() == 'NCHW'
    if _pooling[-1] == 'slices':  # improved_wgan_training's MeanPool
        h, w = (2, 3) if nchw else (1, 2)

        def every_other(dy, dx):
            index = [slice(None)] * 4
            index[h], index[w] = slice(dy, None, 2), slice(dx, None, 2)
            return x[tuple(index)]
        return _scale((every_other(0, 0) + every_other(1, 0)) +
                      (every_other(0, 1) + every_other(1, 1)), .25)  # pairs: one order
    if nchw:
        return tf.nn.avg_pool(x, [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW')
    return tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], 'VALID')


def _four_copies(x, axis):
    """x four times along ``axis``. On TF 1.15 a tile: the authors' concat of the tensor with
    itself has a repeated input that TF 1.15's graph optimizers misread as a cycle (``self
    cycle fanin``, ``topological sort failed``), undoing their work on every graph that holds
    it; on TF 2.x the concat, whose gradient is faster there (bench/train_step.py: the
    flagship 1.1x). The same values either way."""
    if IS_TF2:
        return tf.concat([x, x, x, x], axis=axis)
    multiples = [1, 1, 1, 1]
    multiples[axis] = 4
    return tf.tile(x, multiples)


def upsample(x):
    """2x nearest-neighbour upsampling: four copies on the channel axis, then depth_to_space."""
    if layout.data_format() == 'NCHW':
        x = layout.transpose(_four_copies(x, 1), [0, 2, 3, 1])
        return layout.transpose(tf.depth_to_space(x, 2), [0, 3, 1, 2])
    return tf.depth_to_space(_four_copies(x, 3), 2)


def ConvMeanPool(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True):
    return mean_pool(Conv2D(name, input_dim, output_dim, filter_size, inputs, he_init=he_init,
                            biases=biases))


def MeanPoolConv(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True):
    return Conv2D(name, input_dim, output_dim, filter_size, mean_pool(inputs), he_init=he_init,
                  biases=biases)


def UpsampleConv(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True):
    return Conv2D(name, input_dim, output_dim, filter_size, upsample(inputs), he_init=he_init,
                  biases=biases)
