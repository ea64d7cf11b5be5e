"""npu_bridge.estimator.npu.npu_optimizer (tf_adapter/python/npu_bridge/estimator/npu/
npu_optimizer.py at Ascend/tensorflow 085a7b2e, lines 269-331), for one rank: the emulator runs
one process, and with a rank size of 1 the adapter returns the gradients unchanged."""
import os

import tensorflow as _tf

tf = _tf.compat.v1


def get_ranksize():
    """util.py lines 234-238."""
    if os.getenv('CM_WORKER_SIZE') is not None and os.getenv('RANK_SIZE') is not None:
        raise ValueError('RANK_SIZE and CM_WORK_SIZE cannot be configured at the same time')
    return os.getenv('RANK_SIZE', os.getenv('CM_WORKER_SIZE', '1'))


class NPUDistributedOptimizer(tf.train.Optimizer):
    """Gradients summed over the ranks by HCCL and divided by the rank size (rank size 1:
    unchanged); apply_gradients delegates."""

    def __init__(self, optimizer, is_weight_update_sharding=False, name=None):
        if int(get_ranksize()) > 1 or is_weight_update_sharding:
            raise NotImplementedError('the npu_bridge emulator runs one rank')
        super(NPUDistributedOptimizer, self).__init__(
            name=name or 'Distributed{}'.format(type(optimizer).__name__), use_locking=False)
        self._optimizer = optimizer

    def compute_gradients(self, *args, **kwargs):
        return self._optimizer.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        return self._optimizer.apply_gradients(grads_and_vars, global_step, name)

    def get_slot(self, *args, **kwargs):
        return self._optimizer.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._optimizer.get_slot_names(*args, **kwargs)

    def variables(self, *args, **kwargs):
        return self._optimizer.variables(*args, **kwargs)
