"""CelebA aligned faces (``img_align_celeba/*.jpg``, 178x218): the 128x128 box centred at
(89, 121) that the PGAN authors' dataset_tool.py (create_celeba) crops, resized to the image
size. With ``list_eval_partition.txt`` in the folder or beside it, its splits apply (0 train,
1 val, 2 test); without it every image is a training image."""
import os

from PIL import Image

from datasets import folder
from datasets.base import DataError, fit

ALIGNED_SIZE = (178, 218)  # width, height
CROP = (89 - 64, 121 - 64, 89 + 64, 121 + 64)  # left, top, right, bottom
PARTITION = 'list_eval_partition.txt'
SPLITS = {'train': '0', 'val': '1', 'valid': '1', 'test': '2'}


def _partition(path):
    """{file name: split digit} from list_eval_partition.txt, or None when there is none."""
    for directory in (path, os.path.dirname(os.path.abspath(path))):
        listing = os.path.join(directory, PARTITION)
        if os.path.exists(listing):
            with open(listing) as f:
                rows = [line.split() for line in f if line.strip()]
            if any(len(row) != 2 for row in rows):
                raise DataError('{}: expected lines "<image>.jpg <0|1|2>"'.format(listing))
            return dict(rows)
    return None


class CelebA(folder.ImageFolder):

    def __init__(self, path, image_size, channels, split):
        super(CelebA, self).__init__(path, image_size, channels)
        partition = _partition(path)
        if partition is None and split != 'train':
            raise DataError('{}: no {} beside the images, so no {} split'.format(
                path, PARTITION, split))
        if partition is not None:
            self.files = [f for f in self.files
                          if partition.get(os.path.basename(f)) == SPLITS[split]]
            if not self.files:
                raise DataError('{}: no {} images listed in {}'.format(path, split, PARTITION))
            self.labels = self.labels[:len(self.files)]  # unlabelled: zeros

    def decode(self, path):
        try:
            with Image.open(path) as image:
                size = image.size
                if size == ALIGNED_SIZE:
                    return fit(image.crop(CROP), self.size, self.channels)
        except (OSError, IOError, ValueError, SyntaxError) as error:
            raise DataError('{}: not a readable image ({})'.format(path, error))
        raise DataError('{}: {}x{}, not an aligned CelebA image ({}x{})'.format(
            path, size[0], size[1], *ALIGNED_SIZE))


def load(path, image_size, channels, split):
    return CelebA(path, image_size, channels, split)
