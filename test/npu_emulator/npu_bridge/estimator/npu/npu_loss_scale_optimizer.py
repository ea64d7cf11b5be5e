"""npu_bridge.estimator.npu.npu_loss_scale_optimizer (tf_adapter/python/npu_bridge/estimator/npu/
npu_loss_scale_optimizer.py at Ascend/tensorflow 085a7b2e, lines 38-98), with the TF 1.x contrib
LossScaleOptimizer it extends (tensorflow/contrib/mixed_precision/python/
loss_scale_optimizer.py at 166fba20), which TF 2.x lacks."""
import tensorflow as _tf

from npu_bridge import _emulator

tf = _tf.compat.v1


class NPULossScaleOptimizer(tf.train.Optimizer):
    """compute_gradients (contrib): the loss times the scale S, the wrapped optimizer's
    gradients of it times reciprocal(S). apply_gradients (adapter, saturation mode): the float
    status read after the gradients (name scope ``NPULossScaleOptimizermodule``: line 47 formats
    the module ``optimizer``), finite when all its words are 0; then ``tf.cond(finite, the
    wrapped optimizer's apply_gradients(grads_and_vars, global_step, name), no_op)``, so an
    overflowing step updates nothing and does not increment ``global_step``; grouped with the
    manager's update of the scale, which runs every step. Like contrib's, __init__ does not call
    Optimizer.__init__; other attributes come from the wrapped optimizer (lines 50-51)."""

    def __init__(self, opt, loss_scale_manager, is_distributed=False):
        self._opt = opt
        self._loss_scale_manager = loss_scale_manager
        self._is_distributed = is_distributed
        self._name = 'NPULossScaleOptimizermodule'

    def __getattr__(self, attr):
        if attr == '_opt':
            raise AttributeError(attr)
        return getattr(self._opt, attr)

    def compute_gradients(self, loss, var_list=None, gate_gradients=tf.train.Optimizer.GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        loss_scale = self._loss_scale_manager.get_loss_scale()
        loss_val = loss() if callable(loss) else loss
        scaled_loss = loss_val * tf.cast(loss_scale, loss_val.dtype.base_dtype)
        grads_and_vars = self._opt.compute_gradients(
            scaled_loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        return self._down_scale(grads_and_vars, loss_scale)

    @staticmethod
    def _down_scale(grads_vars, loss_scale):
        inv_loss_scale = tf.reciprocal(loss_scale)
        return [(g * tf.cast(inv_loss_scale, g.dtype.base_dtype) if g is not None else g, v)
                for g, v in grads_vars]

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = list(grads_and_vars)
        with tf.name_scope(self._name):
            grads = [g for g, _ in grads_and_vars if g is not None]
            with tf.get_default_graph().control_dependencies(grads):
                local_float_status = _emulator.float_status(
                    grads_and_vars, self._loss_scale_manager.get_loss_scale())
        # is_distributed: HCCL sums the status over the ranks; one emulated rank sums one.
        is_overall_finite = tf.reduce_all(tf.equal(0, local_float_status),
                                          name='overflow_status_reduce_all')

        def true_apply_grads_fn():
            return self._opt.apply_gradients(grads_and_vars, global_step, name)

        update_variables = tf.cond(is_overall_finite, true_apply_grads_fn, tf.no_op)
        return tf.group(update_variables,
                        self._loss_scale_manager.update_loss_scale(is_overall_finite))
