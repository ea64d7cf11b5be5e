"""Shared fixtures: fresh seeded graphs, the data formats this CPU can run, tiny configs."""
import contextlib
import itertools
import os
import sys
import types

import numpy as np
import pytest

import datasets.base
from tflib import layout, steps
from tflib.compat import tf

TINY = {
    'cifar_resnet': dict(ARCH='cifar_resnet', IMAGE_SIZE=16, DIM_G=8, DIM_D=8, N_CLASSES=3,
                         Z_DIM=6),
    'good_resnet': dict(ARCH='good_resnet', IMAGE_SIZE=32, DIM_G=2, DIM_D=2, N_CLASSES=3,
                        Z_DIM=6, NORMALIZATION_D=True),
}

TINY_FLAGS = {  # per model: flags that shrink its networks (the graph's op types stay)
    'transfer_gan': ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '4'],
    'wgan': ['--ngf', '4', '--ndf', '4', '--batch_size', '4'],
    'dcgan': ['--feature_size', '2', '--batch_size', '4'],
    'cgan': ['--batch_size', '4'],
    'pgan': ['--batch_size', '4', '--STABLE_IMAGES', '8', '--FADE_IMAGES', '8'],
}


def random_source(size, channels, n=64, n_classes=10, seed=0):
    """n random uint8 images of ``size`` x ``size`` x ``channels`` with labels of n_classes."""
    rng = np.random.RandomState(seed)
    return datasets.base.ArraySource('random', rng.randint(0, 256, (n, size, size, channels),
                                                           np.uint8),
                                     rng.randint(0, n_classes, n), n_classes)


@contextlib.contextmanager
def new_session(seed=0, grappler=True):
    """A fresh graph with a graph-level seed, and a session on it (without grappler's graph
    rewrites, whose float rounding differs from graph to graph, when ``grappler`` is false)."""
    graph = tf.Graph()
    config = tf.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = not grappler
    with graph.as_default():
        tf.set_random_seed(seed)
        with tf.Session(graph=graph, config=config) as session:
            yield session


def fixed_inputs(images, labels, seed=0):
    """A model's ``pipeline`` (datasets.base.step_inputs) that hands every critic step the same
    real batch, with fresh draws in every element."""
    def pipeline(spec):
        def generate():
            for index in itertools.count():
                element = steps.draw_element(spec, steps.element_rng(seed, 0, index, 0))
                element['images'] = np.stack([images] * spec.fused_critic_steps).astype('float32')
                element['labels'] = np.stack([labels] * spec.fused_critic_steps).astype('int32')
                yield element

        return tf.data.make_one_shot_iterator(datasets.base.element_dataset(
            generate, spec, np.shape(images))).get_next()
    return pipeline


def _nchw_runs():
    """TF 1.15's stock CPU kernels have no NCHW convolution; TF 2.x's oneDNN ones do."""
    with new_session() as session:
        x = tf.ones([1, 2, 4, 4])
        y = tf.nn.conv2d(x, tf.ones([3, 3, 2, 2]), [1, 1, 1, 1], 'SAME', data_format='NCHW')
        try:
            session.run(tf.gradients(tf.reduce_sum(y * y), x))
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
            return False
    return True


NCHW_RUNS = _nchw_runs()


@pytest.fixture(params=layout.FORMATS)
def data_format(request):
    """Each data format; NCHW is skipped where this CPU's TensorFlow cannot run it."""
    if request.param == 'NCHW' and not NCHW_RUNS:
        pytest.skip('this TensorFlow has no NCHW convolutions on CPU')
    return request.param


@pytest.fixture
def rng():
    return np.random.RandomState(1234)


# Tiny datasets in each real on-disk format.

def write_cifar(directory, n=10, seed=0):
    """CIFAR-10 python batches as the real ones are: py2-era pickles with bytes keys."""
    import pickle
    rng = np.random.RandomState(seed)
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']:
        data = rng.randint(0, 256, (n, 3072)).astype(np.uint8)
        labels = [int(v) for v in rng.randint(0, 10, n)]
        with open(str(directory / name), 'wb') as f:
            pickle.dump({b'batch_label': name.encode(), b'labels': labels, b'data': data,
                         b'filenames': [b'x.png'] * n}, f, protocol=2)
        batches[name] = (data, labels)
    return batches


def write_mnist_idx(directory, n=12, gz=True, prefix='train', seed=0):
    import gzip
    import struct
    rng = np.random.RandomState(seed)
    directory.mkdir(parents=True, exist_ok=True)
    images = rng.randint(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, n).astype(np.uint8)
    opener = gzip.open if gz else open
    suffix = '.gz' if gz else ''
    with opener(str(directory / (prefix + '-images-idx3-ubyte' + suffix)), 'wb') as f:
        f.write(struct.pack('>IIII', 2051, n, 28, 28) + images.tobytes())
    with opener(str(directory / (prefix + '-labels-idx1-ubyte' + suffix)), 'wb') as f:
        f.write(struct.pack('>II', 2049, n) + labels.tobytes())
    return images, labels


def write_image(path, kind='RGB', size=(40, 30), fmt=None, seed=0):
    """An image file of PIL mode ``kind`` ('RGB', 'L', 'RGBA', 'I;16')."""
    from PIL import Image
    rng = np.random.RandomState(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == 'I;16':
        image = Image.fromarray(rng.randint(0, 65536, size[::-1]).astype(np.uint16))
    else:
        channels = {'RGB': 3, 'L': 1, 'RGBA': 4}[kind]
        array = rng.randint(0, 256, size[::-1] + (channels,)).astype(np.uint8)
        image = Image.fromarray(array[..., 0] if channels == 1 else array, kind)
    image.save(str(path), fmt)


def write_folder(directory, classes=('bedroom', 'kitchen'), per_class=3):
    """Class folders mixing formats, modes and sizes, as LSUN exports and CelebA come."""
    kinds = [('RGB', '.jpg', (40, 30)), ('L', '.png', (32, 32)), ('RGBA', '.png', (30, 50)),
             ('I;16', '.png', (36, 36)), ('RGB', '.webp', (64, 48))]
    i = 0
    for name in classes:
        for j in range(per_class):
            kind, ext, size = kinds[i % len(kinds)]
            write_image(directory / name / ('%03d%s' % (j, ext)), kind, size, seed=i)
            i += 1


def write_lmdb(directory, n=6):
    """An LSUN-style lmdb: image ids as keys, encoded webp/jpeg images as values."""
    import io
    import lmdb
    from PIL import Image
    rng = np.random.RandomState(0)
    env = lmdb.open(str(directory), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(n):
            buffer = io.BytesIO()
            array = rng.randint(0, 256, (48, 64, 3)).astype(np.uint8)
            Image.fromarray(array).save(buffer, 'WEBP' if i % 2 else 'JPEG')
            txn.put(('%040x' % i).encode('ascii'), buffer.getvalue())
    env.close()


def write_standin_classifier(path, n_classes=10, n_features=16, size=16, seed=0):
    """A small frozen classifier with inception-2015-12-05's tensor names: float images 0..255
    at ``ExpandDims:0`` (batch 1, as there), resized inside the graph, ``pool_3:0``
    [N, 1, 1, F] features and a bias-free ``softmax/logits/MatMul``."""
    from tflib.compat import tf
    rng = np.random.RandomState(seed)
    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [1, None, None, 3], name='ExpandDims')
        x = tf.image.resize_bilinear(images, [size, size]) / 128. - 1.
        x = tf.nn.relu(tf.nn.conv2d(x, rng.randn(3, 3, 3, n_features).astype('float32') / 3.,
                                    [1, 2, 2, 1], 'SAME'))
        pool = tf.nn.avg_pool(x, [1, size // 2, size // 2, 1], [1, 1, 1, 1], 'VALID',
                              name='pool_3')
        weights = tf.constant(rng.randn(n_features, n_classes).astype('float32'))
        logits = tf.matmul(tf.reshape(pool, [1, n_features]), weights,
                           name='softmax/logits/MatMul')
        tf.nn.softmax(logits, name='softmax')
    with open(str(path), 'wb') as f:
        f.write(graph.as_graph_def().SerializeToString())
    return str(path)


def npu_bridge_api():
    """{(module, member): [parameter names]} of the npu_bridge API the project calls, as the
    adapter's source defines it (test/data/ascend/npu_bridge_api.txt)."""
    api = {}
    with open(os.path.join(os.path.dirname(__file__), 'data', 'ascend', 'npu_bridge_api.txt')) as f:
        for line in f:
            if not line.startswith('#'):
                module, member, parameters = line.split()[:3]
                api[module, member] = parameters.split(',')
    return api


def stand_in_npu_bridge(monkeypatch, modules):
    """Make ``npu_bridge.NAME`` importable as a module holding ``members`` for each NAME:
    members of ``modules`` ({NAME: {member: value}}). Each must be one the adapter defines
    (npu_bridge_api), so the project's calls, which the stand-ins serve, exist there."""
    api = npu_bridge_api()
    monkeypatch.setitem(sys.modules, 'npu_bridge', types.ModuleType('npu_bridge'))
    for name, members in modules.items():
        module = types.ModuleType('npu_bridge.' + name)
        for key, value in members.items():
            assert ('npu_bridge.' + name, key) in api, 'npu_bridge.{}.{} is not in the adapter'\
                .format(name, key)
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, 'npu_bridge.' + name, module)


@pytest.fixture
def fake_npu_bridge(monkeypatch):
    """Stand-ins for the npu_bridge classes and ops the project calls, recording each call in
    ``.calls`` (npu_bridge itself needs an Ascend machine)."""
    calls = []

    class Manager(object):
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class ScaledOptimizer(object):
        def __init__(self, optimizer, manager, is_distributed=False):
            calls.append(('scale', optimizer, manager.kwargs, is_distributed))
            self.inner = optimizer

    class DistributedOptimizer(object):
        def __init__(self, optimizer):
            calls.append(('allreduce', optimizer))
            self.inner = optimizer

    def broadcast(tensors, root_rank):
        calls.append(('broadcast', [t.name for t in tensors], root_rank))
        # Float tensors come back plus one, to show which went through.
        return [t + 1. if t.dtype.is_floating else tf.identity(t) for t in tensors]

    names = {'estimator.npu.npu_loss_scale_manager': {'ExponentialUpdateLossScaleManager':
                                                      Manager},
             'estimator.npu.npu_loss_scale_optimizer': {'NPULossScaleOptimizer':
                                                        ScaledOptimizer},
             'estimator.npu.npu_optimizer': {'NPUDistributedOptimizer': DistributedOptimizer},
             'hccl.hccl_ops': {'broadcast': broadcast}}
    stand_in_npu_bridge(monkeypatch, names)
    return types.SimpleNamespace(calls=calls, ScaledOptimizer=ScaledOptimizer,
                                 DistributedOptimizer=DistributedOptimizer)


def descendants(pid):
    """The PIDs of ``pid``'s live descendants (from /proc)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/{}/stat'.format(entry)) as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, stack = [], list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return found


def cmdline(pid):
    """A process's command line ('' once it has gone)."""
    try:
        with open('/proc/{}/cmdline'.format(pid), 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def alive(pid):
    try:
        with open('/proc/{}/stat'.format(pid)) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'npu_emulator')


@pytest.fixture
def npu_emulator(monkeypatch):
    """npu_bridge as test/npu_emulator emulates it on this CPU: importable (so ``--device npu``
    and ``auto`` pick it), tf.Session taking NpuOptimizer configs, until the test ends."""
    monkeypatch.syspath_prepend(EMULATOR)
    for name in [m for m in sys.modules if m.split('.')[0] == 'npu_bridge']:
        monkeypatch.delitem(sys.modules, name)
    import npu_bridge
    yield npu_bridge
    npu_bridge._emulator.uninstall()
    for name in [m for m in sys.modules if m.split('.')[0] == 'npu_bridge']:
        del sys.modules[name]
