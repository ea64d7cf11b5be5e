"""What every loader provides, and the tf.data pipeline built on it.

A ``Dataset`` is a kind of data by name: its loader and the facts callers need about it. A
loader returns a ``Source``: images as uint8 [H, W, C] at the requested size and channel count,
labels as int32 (or none), read by index. ``step_inputs`` turns a source into the training
pipeline: one element per generator iteration (tflib/steps.py), its real batches of float
images in [-1, 1] drawn from an endless stream reshuffled every epoch from a seed; ``batches``
into plain static-shape batches.
"""
import itertools

import numpy as np
from PIL import Image

from tflib import steps
from tflib.compat import tf


class DataError(ValueError):
    """A dataset file is missing or not what its format says; the message names it."""


class Dataset(object):
    """A dataset kind, called like its loader: ``(path, image_size, channels, split)`` -> Source.
    It states the facts callers would otherwise guess from its name, and refuses a split it
    lacks or a missing path in one line before any file is read."""

    def __init__(self, name, load, splits, channels=3, needs_path=True):
        self.name, self.load, self.splits = name, load, tuple(splits)
        self.channels, self.needs_path = channels, needs_path

    def __call__(self, path, image_size, channels, split='train'):
        if split not in self.splits:
            raise DataError('--split {}: dataset {} has splits {}'.format(
                split, self.name, ', '.join(self.splits)))
        if self.needs_path and not path:
            raise DataError('--data_path is required for dataset {}'.format(self.name))
        return self.load(path, image_size, channels, split)

    def frame(self, images):
        """Float images [N, S, S, C] in the data's native frame, where likelihood scores compare
        them with real images: here the images themselves."""
        return images

    def frame_size(self, image_size):
        """The side of ``frame``'s images for images of side ``image_size``."""
        return image_size


class Source(object):
    """Images and labels by index. Subclasses set ``path``, ``n_classes`` (None when
    unlabelled) and implement ``__len__`` and ``read``."""
    path = ''
    n_classes = None

    def __len__(self):
        raise NotImplementedError

    def read(self, indices):
        """uint8 [len(indices), H, W, C] and int32 labels [len(indices)] (zeros if unlabelled)."""
        raise NotImplementedError


class ArraySource(Source):
    """A dataset held in memory: uint8 images [N, H, W, C] and int labels [N] (or None)."""

    def __init__(self, path, images, labels=None, n_classes=None):
        self.path, self.images = path, images
        self.labels = np.zeros(len(images), np.int32) if labels is None else \
            np.asarray(labels, np.int32)
        self.n_classes = n_classes if labels is not None else None

    def __len__(self):
        return len(self.images)

    def read(self, indices):
        return self.images[indices], self.labels[indices]


class Subset(Source):
    """The images of ``source`` at ``indices``, labels passed through ``label_map`` (an array
    from old to new label) when given."""

    def __init__(self, source, indices, label_map=None, n_classes=None):
        self.source, self.path = source, source.path
        self.indices, self.label_map = np.asarray(indices), label_map
        self.n_classes = source.n_classes if label_map is None else n_classes

    def __len__(self):
        return len(self.indices)

    def read(self, indices):
        images, labels = self.source.read(self.indices[indices])
        return images, labels if self.label_map is None else self.label_map[labels]


def shard(source, rank, size):
    """Every ``size``-th image from ``rank`` on: one data-parallel rank's share."""
    return Subset(source, np.arange(rank, len(source), size))


def select(source, classes=(), limit=0, seed=0):
    """Limited data: only the images of ``classes`` (labels renumbered 0..k-1 in that order),
    then at most ``limit`` of them (> 0), a random subset fixed by ``seed``."""
    indices, label_map, n_classes = np.arange(len(source)), None, None
    if classes:
        labels = getattr(source, 'labels', None)
        if source.n_classes is None or labels is None:
            raise DataError('{}: these images have no labels to select classes {} by'.format(
                source.path, list(classes)))
        unknown = sorted(set(classes) - set(range(source.n_classes)))
        if unknown or len(set(classes)) != len(classes):
            raise DataError('{}: classes must be distinct labels 0..{}, got {}'.format(
                source.path, source.n_classes - 1, list(classes)))
        indices = np.flatnonzero(np.isin(labels, classes))
        label_map = np.zeros(source.n_classes, np.int32)
        label_map[list(classes)] = np.arange(len(classes))
        n_classes = len(classes)
    if limit and limit < len(indices):
        indices = np.sort(np.random.RandomState(seed).choice(indices, limit, replace=False))
    return Subset(source, indices, label_map, n_classes)


def split(source, n, seed=0):
    """(the rest, ``n`` held-out images) of ``source``: a random split fixed by ``seed``."""
    if not 0 <= n < len(source):
        raise DataError('{}: cannot hold {} of its {} images out'.format(source.path, n,
                                                                       len(source)))
    held = np.zeros(len(source), bool)
    held[np.random.RandomState(seed).choice(len(source), n, replace=False)] = True
    return Subset(source, np.flatnonzero(~held)), Subset(source, np.flatnonzero(held))


def fit(image, size, channels):
    """A PIL image centre-cropped to a square, resized to ``size`` and converted to
    ``channels`` (1 or 3) as uint8 [size, size, channels]."""
    if image.mode not in ('L', 'RGB'):
        image = image.convert('RGBA' if 'A' in image.getbands() else 'RGB')
        if image.mode == 'RGBA':
            background = Image.new('RGB', image.size, (255, 255, 255))
            background.paste(image, mask=image.split()[3])
            image = background
    width, height = image.size
    side = min(width, height)
    if width != height:
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if side != size:
        image = image.resize((size, size), Image.LANCZOS if side > size else Image.BICUBIC)
    image = image.convert('L' if channels == 1 else 'RGB')
    return np.asarray(image, np.uint8).reshape(size, size, channels)


def fit_array(images, size, channels):
    """``fit`` for a uint8 array [N, H, W, C] (C 1 or 3); a no-op when it already fits."""
    if images.shape[1:] == (size, size, channels):
        return images
    return np.stack([fit(Image.fromarray(im[..., 0] if im.shape[2] == 1 else im), size,
                         channels) for im in images])


def batches(source, batch_size, seed=0):
    """``next_batch()``: each call a new (images, labels) pair of tensors that draws the next
    batch of ``BatchStream(source, batch_size, seed)``: float32 [B, H, W, C] in [-1, 1] and
    int32 [B]."""
    stream = BatchStream(source, batch_size, seed)
    sample, _ = source.read(np.arange(1))
    shape = (batch_size,) + sample.shape[1:]

    def generate():
        for index in itertools.count():
            yield stream.take(index)

    def to_float(images, labels):
        return tf.cast(images, tf.float32) / 127.5 - 1., labels

    dataset = tf.data.Dataset.from_generator(generate, (tf.uint8, tf.int32),
                                             (tf.TensorShape(shape), tf.TensorShape(shape[:1])))
    dataset = dataset.map(to_float).prefetch(4)
    return tf.data.make_one_shot_iterator(dataset).get_next


class BatchStream(object):
    """The real batches of ``source`` in order: epoch ``e`` is the permutation seeded by
    (``*seeds``, ``e``), cut into batches (the remainder dropped); ``take(b)`` reads batch ``b``
    of the stream, so a resumed run can go on from where it stopped."""

    def __init__(self, source, batch_size, *seeds):
        if len(source) < batch_size:
            raise DataError('{}: {} images, fewer than one batch of {}'.format(
                source.path, len(source), batch_size))
        self.source, self.batch_size = source, batch_size
        self.seeds = [seed % 2 ** 32 for seed in seeds]
        self.per_epoch = len(source) // batch_size
        self.epoch, self.order = None, None

    def take(self, index):
        epoch, start = divmod(index, self.per_epoch)
        if epoch != self.epoch:
            rng = np.random.RandomState(self.seeds + [epoch])
            self.epoch, self.order = epoch, rng.permutation(len(self.source))
        start *= self.batch_size
        return self.source.read(np.sort(self.order[start:start + self.batch_size]))


class StepInputs(object):
    """The training pipeline of ``step_inputs``: called with a spec, it returns the element
    tensors; ``initializer`` then starts its iterator (an initializable one, which Ascend's
    adapter can sink to the device with loop sinking; a one-shot iterator it cannot)."""

    def __init__(self, make):
        self.make, self.initializer = make, None

    def __call__(self, spec):
        iterator = tf.data.make_initializable_iterator(self.make(spec))
        self.initializer = iterator.initializer
        return iterator.get_next()


def step_inputs(source, batch_size, seed=0, start=0, first=0, dequantize=False, rank=0,
                held_out=None):
    """A ``StepInputs`` pipeline: the element tensors (one IteratorGetNext) of the training pipeline
    for a ``tflib.steps.StepSpec``, from generator step ``start`` of a phase that began at
    ``first``: real batches continue the phase's stream (seeded by ``seed`` and ``first``) where
    step ``start`` finds it, and the draws are those of ``tflib.steps.element_rng`` (seed, rank,
    step, block), so a resumed run reads what an uninterrupted one would. Images are float32 in
    [-1, 1]; with ``dequantize``, uniform noise of one grey level is added, as gan_cifar_resnet.py
    does (images then lie in [-1, 1)). A spec's held-out images are drawn (with replacement)
    from the Source ``held_out`` and made alike. Everything is made on the host by numpy."""
    stream = BatchStream(source, batch_size, seed, first)
    image_shape = (batch_size,) + source.read(np.arange(1))[0].shape[1:]

    def dataset(spec):
        fused = spec.fused_critic_steps
        if spec.holdout and held_out is None:
            raise ValueError('the steps take held-out images and none were given')

        def to_float(images, rng):
            images = images.astype(np.float32)
            if dequantize:
                return (images + rng.random(images.shape, dtype=np.float32)) / 128. - 1.
            return images / 127.5 - 1.

        def generate():
            index = steps.critic_batches(spec, first, start)
            for step, block in steps.elements(spec, start):
                rng = steps.element_rng(seed, rank, step, block)
                reads = [stream.take(index + k) for k in range(fused)]
                index += fused
                element = {'images': to_float(np.stack([r[0] for r in reads]), rng),
                           'labels': np.stack([r[1] for r in reads])}
                element.update(steps.draw_element(spec, rng))
                if spec.holdout:
                    picks = rng.integers(0, len(held_out), (fused, spec.holdout))
                    element['holdout'] = to_float(held_out.read(picks.ravel())[0].reshape(
                        picks.shape + image_shape[1:]), rng)
                yield element

        return element_dataset(generate, spec, image_shape).prefetch(2)

    return StepInputs(dataset)


def element_dataset(generate, spec, image_shape):
    """The tf.data dataset of the elements ``generate()`` yields for ``spec``, real batches
    of ``image_shape`` ([batch, H, W, C])."""
    dtypes, shapes = steps.element_signature(spec, image_shape)
    return tf.data.Dataset.from_generator(generate, {k: tf.as_dtype(v) for k, v in dtypes.items()},
                                          {k: tf.TensorShape(v) for k, v in shapes.items()})
