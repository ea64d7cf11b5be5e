"""npu_bridge.estimator.npu.util (tf_adapter/python/npu_bridge/estimator/npu/util.py at
Ascend/tensorflow 085a7b2e): IterationPerLoop (lines 241-291) and its loop variables
(create_or_get_var, lines 173-194). The loop itself is the device's (npu_bridge/_emulator.py)."""
import tensorflow as _tf

tf = _tf.compat.v1

_NPU_RUNCONFIG = 'npu_runconfig'


def create_or_get_var(var_name):
    """A scalar int64 resource variable ``npu_runconfig/NAME``, local (so no Saver holds it),
    in collection ``npu_runconfig_NAME``, colocated with the global step."""
    graph = tf.get_default_graph()
    collection_name = '{}_{}'.format(_NPU_RUNCONFIG, var_name)
    found = graph.get_collection(collection_name)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise RuntimeError('Multiple var in collection.')
    step = tf.train.get_global_step()
    with tf.colocate_with(step, ignore_existing=step is None):
        with tf.variable_scope(_NPU_RUNCONFIG, reuse=tf.AUTO_REUSE):
            return tf.get_variable(var_name, initializer=tf.zeros_initializer(), shape=[],
                                   dtype=tf.int64, trainable=False,
                                   collections=[collection_name, tf.GraphKeys.LOCAL_VARIABLES],
                                   use_resource=True)


def check_positive_integer(value, name):
    """util.py lines 54-61."""
    if not isinstance(value, int):
        raise TypeError('{} must be int, got {}'.format(name, type(value)))
    if value <= 0:
        raise ValueError('{} must be positive, got {}'.format(name, value))


class IterationPerLoop(object):
    """The loop variables and the ``IterationOp`` node (``tf.group(train_op)``) the adapter finds
    by that exact name; loading sets the loop bound K - 1 and the counter's constants."""

    def __init__(self):
        self._const_one = None
        self._const_zero = None
        self._loop_cond_var = None
        self._iterations_per_loop_var = None

    def create_iteration_per_loop_var(self, train_op):
        if not isinstance(train_op, tf.Operation):
            raise ValueError("The incoming 'train_op' type is '{}', and the need type is "
                             "'Operation'".format(type(train_op).__name__))
        self._iterations_per_loop_var = create_or_get_var('iterations_per_loop')
        self._loop_cond_var = create_or_get_var('loop_cond')
        self._const_zero = create_or_get_var('zero')
        self._const_one = create_or_get_var('one')
        return tf.group(train_op, name='IterationOp')

    def load_iteration_per_loop_var(self, sess, iterations_per_loop=1):
        check_positive_integer(iterations_per_loop, 'iterations_per_loop')
        self._iterations_per_loop_var.load(iterations_per_loop - 1, session=sess)
        self._loop_cond_var.load(0, session=sess)
        self._const_zero.load(0, session=sess)
        self._const_one.load(1, session=sess)
