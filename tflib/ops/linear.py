"""Fully connected layer (tflib ``Linear``): keys ``name/name.W`` [in, out] and ``name/name.b``."""
import numpy as np

from tflib import params
from tflib.compat import tf


def init_stdev(initialization, input_dim, output_dim):
    """Standard deviation of the original's uniform initialisers (None means 'glorot')."""
    if initialization in (None, 'glorot'):
        return np.sqrt(2. / (input_dim + output_dim))
    if initialization == 'he':
        return np.sqrt(2. / input_dim)
    if initialization == 'lecun':
        return np.sqrt(1. / input_dim)
    if initialization == 'glorot_he':
        return np.sqrt(4. / (input_dim + output_dim))
    raise ValueError('Linear initialization must be None, glorot, he, lecun or glorot_he, '
                     'got {!r}'.format(initialization))


def Linear(name, input_dim, output_dim, inputs, biases=True, initialization=None, gain=1.,
           init=None):
    """``init`` (an initializer such as ``params.normal(.02)``) replaces ``initialization``."""
    init = init or params.uniform(gain * init_stdev(initialization, input_dim, output_dim))
    weight = params.param(name + '.W', [input_dim, output_dim], init, scope=name)
    with tf.name_scope(name):
        result = tf.matmul(inputs, weight)
        if biases:
            bias = params.param(name + '.b', [output_dim], params.constant(0.), scope=name)
            result = tf.nn.bias_add(result, bias)
    return result
