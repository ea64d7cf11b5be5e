"""Datasets by name: ``get(name)`` is a ``Dataset``, called ``(path, image_size, channels,
split)`` -> a Source, that also states its splits, native channels and frame."""
from datasets import celeba, cifar10, folder, lsun, mnist
from datasets.base import DataError, Dataset, batches  # noqa: F401

DATASETS = {dataset.name: dataset for dataset in (
    Dataset('celeba', celeba.load, celeba.SPLITS),
    Dataset('cifar10', cifar10.load, cifar10.SPLITS),
    mnist.Digits('mnist', mnist.load),
    mnist.Digits('mnist_builtin', mnist.load_builtin, needs_path=False),
    Dataset('folder', folder.load, folder.SPLIT_NAMES),
    Dataset('lsun_lmdb', lsun.load, ('train',)),
)}


def get(name):
    if name not in DATASETS:
        raise DataError('unknown dataset {!r}; known: {}'.format(name,
                                                                ', '.join(sorted(DATASETS))))
    return DATASETS[name]
