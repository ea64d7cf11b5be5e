"""The ResNet resampling helpers of gan_cifar_resnet.py / transfer_gan.py.

Mean pooling is AvgPool (the same function as the original's average of four strided slices),
and upsampling is nearest-neighbour through depth_to_space: both have the second-order
gradients the gradient penalty needs on every backend (AvgPool's gradient is AvgPoolGrad, whose
gradient is AvgPool again; both op types are AI Core ops on Ascend).
"""
from tflib import layout
from tflib.compat import tf
from tflib.ops.conv2d import Conv2D


def mean_pool(x):
    """2x2 average pooling. The original's four strided slices spent half of a critic step in
    their gradients (StridedSliceGrad) on CPU; a reshape and a mean, 1.5x faster, still took
    7% of the flagship's step in Mean and the Sum / Tile of its gradients; AvgPool is 1.07x
    (TF 2.21) and 1.19x (TF 1.15) faster again per generator iteration."""
    if layout.data_format() == 'NCHW':
        return tf.nn.avg_pool(x, [1, 1, 2, 2], [1, 1, 2, 2], 'VALID', data_format='NCHW')
    return tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], 'VALID')


def upsample(x):
    """2x nearest-neighbour upsampling: four copies on the channel axis, then depth_to_space."""
    if layout.data_format() == 'NCHW':
        x = layout.transpose(tf.concat([x, x, x, x], axis=1), [0, 2, 3, 1])
        return layout.transpose(tf.depth_to_space(x, 2), [0, 3, 1, 2])
    return tf.depth_to_space(tf.concat([x, x, x, x], axis=3), 2)


def ConvMeanPool(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True):
    return mean_pool(Conv2D(name, input_dim, output_dim, filter_size, inputs, he_init=he_init,
                            biases=biases))


def MeanPoolConv(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True):
    return Conv2D(name, input_dim, output_dim, filter_size, mean_pool(inputs), he_init=he_init,
                  biases=biases)


def UpsampleConv(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True):
    return Conv2D(name, input_dim, output_dim, filter_size, upsample(inputs), he_init=he_init,
                  biases=biases)
