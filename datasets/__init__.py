"""Dataset loaders by name: ``get(name)(path, image_size, channels, split)`` -> a Source."""
from datasets import celeba, cifar10, folder, lsun, mnist
from datasets.base import DataError, batches  # noqa: F401

LOADERS = {
    'celeba': celeba.load,
    'cifar10': cifar10.load,
    'mnist': mnist.load,
    'mnist_builtin': mnist.load_builtin,
    'folder': folder.load,
    'lsun_lmdb': lsun.load,
}


def get(name):
    if name not in LOADERS:
        raise DataError('unknown dataset {!r}; known: {}'.format(name, ', '.join(sorted(LOADERS))))
    return LOADERS[name]
