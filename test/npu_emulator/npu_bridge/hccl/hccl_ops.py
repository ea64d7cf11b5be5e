"""npu_bridge.hccl.hccl_ops (tf_adapter/python/npu_bridge/hccl/hccl_ops.py at Ascend/tensorflow
085a7b2e, line 75), for one rank: HcomBroadcast takes and gives a list of tensors; with one rank
each is its own root's value."""
import tensorflow as _tf

from npu_bridge.estimator.npu.npu_optimizer import get_ranksize

tf = _tf.compat.v1


def broadcast(tensor, root_rank, fusion=2, fusion_id=0, group='hccl_world_group'):
    if int(get_ranksize()) > 1:
        raise NotImplementedError('the npu_bridge emulator runs one rank')
    del root_rank, fusion, fusion_id, group
    return [tf.identity(t) for t in tensor]
