"""ReLU and leaky ReLU for networks under a gradient penalty.

Their second derivative is zero almost everywhere, but TF's ReluGradGrad and LeakyReluGradGrad
return a dense ``zeros_like(features)`` that the penalty's double backprop then drags through
every convolution below (measured: about 15% of the flagship critic step's FLOPs, all spent on
zeros). These compute the same first derivative from the detached output, so no second-order
path into the input exists.
"""
from tflib.compat import tf

_NAME = 'GanzooFirstOrder'


@tf.RegisterGradient(_NAME + 'Relu')
def _relu_grad(op, grad):
    return tf.raw_ops.ReluGrad(gradients=grad, features=tf.stop_gradient(op.outputs[0]))


@tf.RegisterGradient(_NAME + 'LeakyRelu')
def _leaky_relu_grad(op, grad):
    # The output has the input's sign, so it selects the slope as the input would.
    return tf.raw_ops.LeakyReluGrad(gradients=grad, features=tf.stop_gradient(op.outputs[0]),
                                    alpha=op.get_attr('alpha'))


def relu(x):
    with tf.get_default_graph().gradient_override_map({'Relu': _NAME + 'Relu'}):
        return tf.nn.relu(x)


def leaky_relu(x, alpha=0.2):
    with tf.get_default_graph().gradient_override_map({'LeakyRelu': _NAME + 'LeakyRelu'}):
        return tf.nn.leaky_relu(x, alpha)
