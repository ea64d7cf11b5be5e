"""Stride-2 transposed convolution (tflib ``Deconv2D``): keys ``name/name.Filters``
[k, k, out, in] and ``name/name.Biases``; doubles height and width."""
import numpy as np

from tflib import layout, params
from tflib.compat import tf


def init_stdev(input_dim, output_dim, filter_size, he_init=True):
    """The original's init for a stride-2 deconv: fan_in is divided by 4 (integer division)."""
    fan_in = input_dim * filter_size ** 2 // 4
    fan_out = output_dim * filter_size ** 2
    return np.sqrt((4. if he_init else 2.) / (fan_in + fan_out))


def Deconv2D(name, input_dim, output_dim, filter_size, inputs, he_init=True, biases=True,
             gain=1., init=None):
    """``init`` (an initializer such as ``params.normal(.02)``) replaces the fan-based one."""
    init = init or params.uniform(gain * init_stdev(input_dim, output_dim, filter_size, he_init))
    filters = params.param(name + '.Filters', [filter_size, filter_size, output_dim, input_dim],
                           init, scope=name)
    fmt = layout.data_format()
    h, w = [2 * int(inputs.shape[a]) for a in layout.spatial_axes()]
    out_dims = [output_dim, h, w] if fmt == 'NCHW' else [h, w, output_dim]
    batch = inputs.shape.as_list()[0]
    output_shape = [batch] + out_dims if batch else tf.stack([tf.shape(inputs)[0]] + out_dims)
    strides = [1, 1, 2, 2] if fmt == 'NCHW' else [1, 2, 2, 1]
    with tf.name_scope(name):
        result = tf.nn.conv2d_transpose(inputs, filters, output_shape, strides, padding='SAME',
                                        data_format=fmt)
        if biases:
            bias = params.param(name + '.Biases', [output_dim], params.constant(0.), scope=name)
            result = tf.nn.bias_add(result, bias, data_format=fmt)
    return result
