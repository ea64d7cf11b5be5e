"""LSUN's own lmdb databases (e.g. ``bedroom_train_lmdb``), read directly: keys are image ids,
values encoded images (webp, jpeg). Unlabelled."""
import io
import os

import numpy as np

from datasets.base import DataError, Source
from datasets.folder import decode

_environments = {}  # lmdb allows one open environment per database and process


def _open(path):
    import lmdb
    key = os.path.realpath(path)
    if key not in _environments:
        _environments[key] = lmdb.open(path, readonly=True, lock=False, readahead=False,
                                       max_readers=4, subdir=True)
    return _environments[key]


class LsunLmdb(Source):

    def __init__(self, path, image_size, channels):
        try:
            import lmdb
        except ImportError:
            raise DataError('{}: reading LSUN lmdb databases needs the lmdb package: '
                            'pip install lmdb'.format(path))
        try:
            self.env = _open(path)
            with self.env.begin() as txn:
                self.keys = list(txn.cursor().iternext(keys=True, values=False))
        except lmdb.Error as error:
            raise DataError('{}: not a readable lmdb database ({})'.format(path, error))
        if not self.keys:
            raise DataError('{}: the lmdb database is empty'.format(path))
        self.path, self.size, self.channels = path, image_size, channels

    def __len__(self):
        return len(self.keys)

    def read(self, indices):
        images = []
        with self.env.begin() as txn:
            for i in indices:
                name = '{}[{}]'.format(self.path, self.keys[i].decode('ascii', 'replace'))
                value = txn.get(self.keys[i])
                images.append(decode(io.BytesIO(value or b''), self.size, self.channels, name))
        return np.stack(images), np.zeros(len(indices), np.int32)


def load(path, image_size, channels, split):
    return LsunLmdb(path, image_size, channels)
