"""The ResNet resampling helpers of gan_cifar_resnet.py / transfer_gan.py.

Mean pooling is a reshape and a mean (the same function as the original's average of four
strided slices), and upsampling is nearest-neighbour through depth_to_space: both have the
second-order gradients the gradient penalty needs on every backend.
"""
from tflib import layout
from tflib.compat import tf
from tflib.ops.conv2d import Conv2D


def mean_pool(x):
    """2x2 average pooling as a reshape and a mean: the original's four strided slices, whose
    gradients (StridedSliceGrad) took half of a critic step's time on CPU."""
    n, d1, d2, d3 = x.shape.as_list()
    if layout.data_format() == 'NCHW':
        return tf.reduce_mean(tf.reshape(x, [-1, d1, d2 // 2, 2, d3 // 2, 2]), axis=[3, 5])
    return tf.reduce_mean(tf.reshape(x, [-1, d1 // 2, 2, d2 // 2, 2, d3]), axis=[2, 4])


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
