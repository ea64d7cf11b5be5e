"""What every loader provides, and the tf.data pipeline built on it.

A loader is a ``Source``: images as uint8 [H, W, C] at the requested size and channel count,
labels as int32 (or none), read by index. ``batches`` turns a source into static-shape batches
of float images in [-1, 1], reshuffled every epoch from a seed.
"""
import numpy as np
from PIL import Image

from tflib.compat import tf


class DataError(ValueError):
    """A dataset file is missing or not what its format says; the message names it."""


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


def batches(source, batch_size, seed=0, dequantize=False):
    """``next_batch()``: each call a new (images, labels) pair of tensors that draws the next
    batch of the endless, per-epoch shuffled stream from ``source``: float32 [B, H, W, C] in
    [-1, 1] and int32 [B]. With ``dequantize``, uniform noise of one grey level is added, as
    gan_cifar_resnet.py does (images then lie in [-1, 1))."""
    n = len(source)
    if n < batch_size:
        raise DataError('{}: {} images, fewer than one batch of {}'.format(
            source.path, n, batch_size))
    sample, _ = source.read(np.arange(1))
    shape = (batch_size,) + sample.shape[1:]

    def generate():
        rng = np.random.RandomState(seed)
        while True:
            order = rng.permutation(n)
            for start in range(0, n - batch_size + 1, batch_size):
                yield source.read(np.sort(order[start:start + batch_size]))

    def to_float(images, labels):
        images = tf.cast(images, tf.float32)
        if dequantize:
            return (images + tf.random_uniform(shape)) / 128. - 1., labels
        return images / 127.5 - 1., labels

    dataset = tf.data.Dataset.from_generator(generate, (tf.uint8, tf.int32),
                                             (tf.TensorShape(shape), tf.TensorShape(shape[:1])))
    dataset = dataset.map(to_float).prefetch(4)
    return tf.data.make_one_shot_iterator(dataset).get_next
