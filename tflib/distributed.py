"""Data-parallel training through the engines users already run: HCCL (Ascend's collective
library, through npu_bridge) on NPUs, Horovod on CPUs and GPUs.

Every rank builds the same graph, trains on its own shard of the data with its own noise, and
averages gradients with the others; rank 0's initial (or restored) variables are broadcast
before the first step, and rank 0 alone writes checkpoints, samples, logs and scores. Whether
to stop (a signal, MAX_MINUTES) is rank 0's decision, broadcast each step, so every rank runs
the same number of steps.
"""
import collections
import importlib
import os

import numpy as np

from tflib import device
from tflib.compat import tf
from tflib.config import ConfigError

ENGINES = ('auto', 'none', 'horovod', 'hccl')
LR_SCALINGS = ('none', 'linear', 'sqrt')
HCCL_ENV = ('RANK_TABLE_FILE', 'RANK_ID', 'RANK_SIZE', 'DEVICE_ID', 'JOB_ID')


class Cluster(collections.namedtuple('Cluster', ['engine', 'rank', 'size', 'local_rank'])):
    """Where this process stands: ``local_rank`` picks its device (DEVICE_ID on Ascend)."""

    @property
    def is_chief(self):
        return self.rank == 0

    @property
    def parallel(self):
        return self.size > 1


SINGLE = Cluster('none', 0, 1, 0)


def detect(environ):
    """The engine a launcher set up: hccl for Ascend's rank table with RANK_SIZE > 1, horovod
    under horovodrun (or mpirun with Horovod), else none."""
    if environ.get('RANK_TABLE_FILE') and int(environ.get('RANK_SIZE', '1') or 1) > 1:
        return 'hccl'
    if 'HOROVOD_RANK' in environ or 'OMPI_COMM_WORLD_RANK' in environ:
        return 'horovod'
    return 'none'


def horovod():
    try:
        return importlib.import_module('horovod.tensorflow')
    except ImportError as error:
        raise device.DeviceError('--distributed horovod needs Horovod built with TensorFlow '
                                 '(HOROVOD_WITH_TENSORFLOW=1 pip install horovod; see the '
                                 'README): {}'.format(error))


def _env_int(environ, key):
    value = environ.get(key, '')
    try:
        return int(value)
    except ValueError:
        raise ConfigError('--distributed hccl: environment variable {} must be an integer, got '
                          '{!r}'.format(key, value))


def hccl_cluster(environ):
    """Rank and device from the Ascend launcher's RANK_TABLE_FILE, RANK_ID, RANK_SIZE and
    DEVICE_ID (see test/train_full_8p.sh); npu_bridge's rank size also needs a JOB_ID."""
    missing = [key for key in HCCL_ENV if not environ.get(key)]
    if missing:
        raise ConfigError('--distributed hccl: set {} (test/train_full_8p.sh does)'.format(
            ', '.join(missing)))
    if not os.path.isfile(environ['RANK_TABLE_FILE']):
        raise ConfigError('RANK_TABLE_FILE {}: no such rank table (the JSON that hccl_tools '
                          'writes)'.format(environ['RANK_TABLE_FILE']))
    rank, size = _env_int(environ, 'RANK_ID'), _env_int(environ, 'RANK_SIZE')
    if not 0 <= rank < size:
        raise ConfigError('RANK_ID {} is outside 0..RANK_SIZE-1 ({})'.format(rank, size - 1))
    return Cluster('hccl', rank, size, _env_int(environ, 'DEVICE_ID'))


def start(engine, dev, environ=None):
    """The Cluster of this process (Horovod initialised) for ``--distributed engine``."""
    environ = os.environ if environ is None else environ
    if engine not in ENGINES:
        raise ConfigError('--distributed must be one of {}, got {!r}'.format(ENGINES, engine))
    if engine == 'auto':
        engine = detect(environ)
    if engine == 'none':
        return SINGLE
    if engine == 'hccl':
        if dev != 'npu':
            raise ConfigError('--distributed hccl runs on Ascend NPUs (--device npu), not '
                              '{}'.format(dev))
        return hccl_cluster(environ)
    if dev == 'npu':
        raise ConfigError('--distributed horovod runs on CPUs and GPUs; on Ascend use hccl')
    hvd = horovod()
    hvd.init()
    return Cluster('horovod', hvd.rank(), hvd.size(), hvd.local_rank())


def lr_factor(rule, size):
    """How much to multiply learning rates by for ``size`` ranks: none, linear (Goyal et al.
    2017) or sqrt (the gradient noise argument of Krizhevsky 2014)."""
    if rule not in LR_SCALINGS:
        raise ConfigError('--lr_scaling must be one of {}, got {!r}'.format(LR_SCALINGS, rule))
    return {'none': 1., 'linear': float(size), 'sqrt': float(np.sqrt(size))}[rule]


def average_gradients(optimizer, cluster):
    """``optimizer`` with its gradients averaged over the ranks (the innermost wrapper: loss
    scaling goes around it)."""
    if not cluster.parallel:
        return optimizer
    if cluster.engine == 'hccl':
        return device.npu_bridge('npu_bridge.estimator.npu.npu_optimizer') \
            .NPUDistributedOptimizer(optimizer)
    return horovod().DistributedOptimizer(optimizer)


def broadcast_op(cluster, variables):
    """An op that sets ``variables`` to rank 0's values on every rank (None on one rank). HCCL
    broadcasts the float ones (what npu_bridge's own hook does); counters (the step) every rank
    sets itself."""
    if not cluster.parallel:
        return None
    if cluster.engine == 'hccl':
        hccl_ops = device.npu_bridge('npu_bridge.hccl.hccl_ops')
        variables = [v for v in variables if v.dtype.base_dtype.is_floating]
        values = hccl_ops.broadcast(list(variables), root_rank=0)
        return tf.group(*[tf.assign(v, value) for v, value in zip(variables, values)])
    return horovod().broadcast_variables(list(variables), root_rank=0)


def stop_vote(cluster):
    """(placeholder, op): feeding rank 0's stop decision (0 or 1) to the op gives it on every
    rank; None on one rank."""
    if not cluster.parallel:
        return None
    wish = tf.placeholder(tf.int32, [], name='StopWish')
    if cluster.engine == 'hccl':
        hccl_ops = device.npu_bridge('npu_bridge.hccl.hccl_ops')
        return wish, hccl_ops.broadcast([wish], root_rank=0)[0]
    return wish, horovod().broadcast(wish, root_rank=0, name='StopVote')
