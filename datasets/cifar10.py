"""CIFAR-10, python version: ``data_batch_1`` … ``data_batch_5`` (train) and ``test_batch``
(test), as the Ascend port's ``./dataset`` holds them. Each is a pickle of a dict with ``data``
uint8 [10000, 3072] (CHW order) and ``labels``.

A pickle can run any code when it is loaded (a ``__reduce__`` naming ``os.system``), and
CIFAR-10 batches come from mirrors: so they are read by an unpickler that builds only what the
format holds (dicts, lists, tuples, strings, bytes, numbers, numpy arrays and dtypes) and
refuses any other class or function the file names, before anything of it runs."""
import os
import pickle

import numpy as np

from datasets.base import ArraySource, DataError, fit_array

SPLITS = {'train': ['data_batch_%d' % i for i in range(1, 6)], 'test': ['test_batch']}
# The globals a CIFAR-10 batch pickle names: numpy's array reconstruction (numpy 1.x and 2.x
# module names) and, in Python 3 protocol-2 pickles, bytes as _codecs.encode(text, 'latin1').
ALLOWED_GLOBALS = frozenset([
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')])


class _Refused(Exception):
    """The pickle names a global outside ALLOWED_GLOBALS."""


def _latin1(text, encoding):
    """_codecs.encode as Python 3 pickles bytes with it; no other codec."""
    if encoding not in ('latin1', 'latin-1'):
        raise _Refused('_codecs.encode with the codec {!r}'.format(encoding))
    return text.encode('latin1')


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise _Refused('{}.{}'.format(module, name))
        if (module, name) == ('_codecs', 'encode'):
            return _latin1
        return super(_BatchUnpickler, self).find_class(module, name)


def _unpickle(path):
    try:
        with open(path, 'rb') as f:
            batch = _BatchUnpickler(f, encoding='bytes').load()
    except (OSError, IOError) as error:
        raise DataError('{}: cannot read CIFAR-10 batch ({})'.format(path, error.strerror))
    except _Refused as error:
        raise DataError('{}: refused: the pickle would build {}, which a CIFAR-10 batch does '
                        'not hold (nothing of it was run)'.format(path, error))
    except Exception as error:  # pickle raises many kinds on a truncated or foreign file
        raise DataError('{}: not a complete CIFAR-10 python pickle ({}: {})'.format(
            path, type(error).__name__, error))
    if not isinstance(batch, dict):
        raise DataError('{}: expected a pickled dict with data and labels'.format(path))
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = np.asarray(batch.get('data')), np.asarray(batch.get('labels'))
    if data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (len(data),):
        raise DataError('{}: expected data [N, 3072] and N labels, got data {} and labels '
                        '{}'.format(path, data.shape, labels.shape))
    return data.astype(np.uint8), labels


def load(path, image_size, channels, split):
    files = [os.path.join(path, name) for name in SPLITS[split]]
    if not os.path.isdir(path):
        raise DataError('{}: no such directory (expected CIFAR-10 python batches: {})'.format(
            path, ', '.join(SPLITS[split])))
    parts = [_unpickle(f) for f in files]
    images = np.concatenate([d for d, _ in parts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.concatenate([l for _, l in parts])
    if labels.min() < 0 or labels.max() > 9:
        raise DataError('{}: labels outside 0..9'.format(path))
    return ArraySource(path, fit_array(images, image_size, channels), labels, n_classes=10)
