"""2-D convolution (tflib ``Conv2D``): keys ``name/name.Filters`` [k, k, in, out] (HWIO) and
``name/name.Biases``; 'SAME' padding, in the module-wide data format."""
import numpy as np

from tflib import layout, params
from tflib.compat import tf


def init_stdev(input_dim, output_dim, filter_size, stride=1, he_init=True):
    """The original's fan-based uniform init; fan_out uses Python 2's integer division."""
    fan_in = input_dim * filter_size ** 2
    fan_out = output_dim * filter_size ** 2 // stride ** 2
    return np.sqrt((4. if he_init else 2.) / (fan_in + fan_out))


def Conv2D(name, input_dim, output_dim, filter_size, inputs, he_init=True, stride=1,
           biases=True, gain=1., init=None):
    """``init`` (an initializer such as ``params.normal(.02)``) replaces the fan-based one."""
    init = init or params.uniform(gain * init_stdev(input_dim, output_dim, filter_size, stride,
                                                    he_init))
    filters = params.param(name + '.Filters', [filter_size, filter_size, input_dim, output_dim],
                           init, scope=name)
    fmt = layout.data_format()
    strides = [1, 1, stride, stride] if fmt == 'NCHW' else [1, stride, stride, 1]
    with tf.name_scope(name):
        result = tf.nn.conv2d(inputs, filters, strides=strides, padding='SAME', data_format=fmt)
        if biases:
            bias = params.param(name + '.Biases', [output_dim], params.constant(0.), scope=name)
            result = tf.nn.bias_add(result, bias, data_format=fmt)
    return result
