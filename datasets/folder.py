"""Any folder of images (jpg, png, webp, bmp; searched recursively), centre-cropped and resized:
how LSUN exports, CelebA and ImageNet folders are read.

Where folders named train / val / test appear on the way to the images, only the requested
split's images are read. When every image sits in a class folder (the first folder on its path
that is not a split name), the sorted class names are the labels: ``root/<class>/*.png``,
``root/train/<class>/*.png`` and transfer_gan.py's ``LSUN_10/<class>/train/*.png`` all work.
``write`` makes such a folder of PNGs (generated samples, for any scorer that reads folders)."""
import os
import re

import numpy as np
from PIL import Image

from datasets.base import DataError, Source, fit
from tflib import files, images

EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp')
WRITTEN = re.compile(r'^\d{6,}\.png$')  # write's file names
SPLIT_NAMES = ('train', 'val', 'valid', 'test')


def decode(data_or_path, size, channels, name):
    """One image file (a path or a file object) -> uint8 [size, size, channels]."""
    try:
        with Image.open(data_or_path) as image:
            return fit(image, size, channels)
    except (OSError, IOError, ValueError, SyntaxError) as error:
        raise DataError('{}: not a readable image ({})'.format(name, error))


class ImageFolder(Source):

    def __init__(self, path, image_size, channels, split='train'):
        if not os.path.isdir(path):
            raise DataError('{}: no such directory of images'.format(path))
        self.path, self.size, self.channels = path, image_size, channels
        files = []
        for root, dirs, names in os.walk(path, followlinks=True):
            dirs.sort()
            files.extend(os.path.join(root, n) for n in sorted(names)
                         if n.lower().endswith(EXTENSIONS))
        folders = [os.path.relpath(f, path).split(os.sep)[:-1] for f in files]
        if any(set(parts) & set(SPLIT_NAMES) for parts in folders):
            kept = [i for i, parts in enumerate(folders) if split in parts]
            files, folders = [files[i] for i in kept], [folders[i] for i in kept]
        if not files:
            raise DataError('{}: no {} images ({}) in this folder or below'.format(
                path, split, ', '.join(EXTENSIONS)))
        empty = [f for f in files if os.path.getsize(f) == 0]  # a half-finished copy
        if empty:
            raise DataError('{}: an empty file ({} of the {} images are empty: an unfinished '
                            'copy?)'.format(empty[0], len(empty), len(files)))
        self.files = files
        classes = [[p for p in parts if p not in SPLIT_NAMES][:1] for parts in folders]
        self.labels = np.zeros(len(files), np.int32)
        if all(classes):
            names = sorted(set(c[0] for c in classes))
            self.n_classes, self.class_names = len(names), names
            self.labels = np.array([names.index(c[0]) for c in classes], np.int32)

    def __len__(self):
        return len(self.files)

    def decode(self, path):
        return decode(path, self.size, self.channels, path)

    def read(self, indices):
        return np.stack([self.decode(self.files[i]) for i in indices]), self.labels[indices]


def load(path, image_size, channels, split):
    return ImageFolder(path, image_size, channels, split)


def writable(path):
    """Refuse a ``write`` destination that is not new, empty or an earlier ``write`` (numbered
    PNGs, in numbered class folders or not), which is replaced: a run's ``samples/`` grids or
    a dataset is never taken for one."""
    if not os.path.lexists(path):
        return
    if not os.path.isdir(path):
        raise DataError('{}: exists and is not a folder'.format(path))
    for root, folders, names in os.walk(path):
        top = root == path  # class folders sit at the top, PNGs anywhere
        strangers = [os.path.join(root, n) for n in names if not WRITTEN.match(n)] + [
            os.path.join(root, f) for f in folders if not (top and f.isdigit())]
        if strangers:
            raise DataError('{}: not a folder of samples written by --save_images ({}); give a '
                            'new or empty folder'.format(path, strangers[0]))


def write(path, pixels, labels=None, n_classes=None):
    """uint8 images [N, H, W, C] as ``path/000000.png`` ..., or with ``labels`` (0 ..
    ``n_classes`` - 1) as ``path/<class>/000000.png``, class names zero-padded so that their
    sorted order is the labels' (as ``ImageFolder`` reads them). Written beside, then renamed
    into place."""
    writable(path)
    digits = max(6, len(str(len(pixels) - 1)))
    class_digits = len(str(n_classes - 1)) if labels is not None else 0

    def write_all(directory):
        for i, image in enumerate(pixels):
            folder = directory
            if labels is not None:
                folder = os.path.join(directory, '{:0{}d}'.format(int(labels[i]), class_digits))
                if not os.path.isdir(folder):
                    os.mkdir(folder)
            with open(os.path.join(folder, '{:0{}d}.png'.format(i, digits)), 'wb') as f:
                f.write(images.encode_png(image))
    files.write_dir_atomic(path, write_all)
