"""npu_bridge.estimator.npu.npu_loss_scale_manager (tf_adapter/python/npu_bridge/estimator/npu/
npu_loss_scale_manager.py at Ascend/tensorflow 085a7b2e, lines 48-96), with the TF 1.x contrib
base it extends (tensorflow/contrib/mixed_precision/python/loss_scale_manager.py at 813c55a9):
the variables, and the rule by which the scale moves."""
import tensorflow as _tf

tf = _tf.compat.v1


class ExponentialUpdateLossScaleManager(object):
    """The loss scale S (float32 variable ``loss_scale``) with counters ``good_steps`` and
    ``bad_steps`` (int32), all global variables (so checkpoints hold them). After a finite step:
    S x incr_ratio once ``incr_every_n_steps`` consecutive finite steps are reached (if S stays
    below 3.4e38 / incr_ratio: the adapter's saturation-safe test, not contrib's is_finite),
    counters reset; else good_steps + 1 (bad_steps kept). After an overflowing step: S =
    max(1, S x decr_ratio) once ``decr_every_n_nan_or_inf`` of them have accumulated, counters
    reset; else bad_steps + 1 and good_steps = 0."""

    def __init__(self, init_loss_scale, incr_every_n_steps, decr_every_n_nan_or_inf=2,
                 incr_ratio=2, decr_ratio=0.8):
        self._incr_every_n_steps = incr_every_n_steps
        self._decr_every_n_nan_or_inf = decr_every_n_nan_or_inf
        self._incr_ratio = incr_ratio
        self._decr_ratio = decr_ratio
        self._loss_scale = tf.Variable(name='loss_scale', initial_value=tf.convert_to_tensor(
            init_loss_scale, tf.float32), dtype=tf.float32, trainable=False)
        self._num_good_steps = tf.Variable(name='good_steps', initial_value=0, dtype=tf.int32,
                                           trainable=False)
        self._num_bad_steps = tf.Variable(name='bad_steps', initial_value=0, dtype=tf.int32,
                                          trainable=False)

    def _reset_stats(self):
        return tf.group(tf.assign(self._num_good_steps, 0), tf.assign(self._num_bad_steps, 0))

    def get_loss_scale(self):
        return self._loss_scale

    def update_loss_scale(self, finite_grads):
        def update_if_finite_grads():
            def increase_loss_scale():
                incr_result_finite = tf.less(self._loss_scale, 3.4e+38 / self._incr_ratio)
                new_loss_scale_value = tf.cond(incr_result_finite,
                                               lambda: self._loss_scale * self._incr_ratio,
                                               lambda: self._loss_scale)
                update_loss_scale = tf.assign(self._loss_scale, new_loss_scale_value)
                return tf.group(update_loss_scale, self._reset_stats())

            is_incr_good_steps = self._num_good_steps + 1 >= self._incr_every_n_steps
            return tf.cond(is_incr_good_steps, increase_loss_scale,
                           lambda: tf.assign_add(self._num_good_steps, 1).op)

        def update_if_not_finite_grads():
            def decrease_loss_scale():
                new_loss_scale_value = tf.maximum(1., self._loss_scale * self._decr_ratio)
                update_loss_scale = tf.assign(self._loss_scale, new_loss_scale_value)
                return tf.group(update_loss_scale, self._reset_stats())

            def only_update_steps():
                return tf.group(tf.assign_add(self._num_bad_steps, 1),
                                tf.assign(self._num_good_steps, 0))

            is_incr_bad_steps = self._num_bad_steps + 1 >= self._decr_every_n_nan_or_inf
            return tf.cond(is_incr_bad_steps, decrease_loss_scale, only_update_steps)

        return tf.cond(finite_grads, update_if_finite_grads, update_if_not_finite_grads)
