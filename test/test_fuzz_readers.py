"""Mutation fuzzing of the dataset readers: valid files in each format, then bytes flipped,
cut, inserted and duplicated (seeded, 40 mutants per format). Reading a mutant either works or
raises the loaders' DataError naming the file: never another exception."""
import random
import shutil

import numpy as np
import pytest

import datasets
from conftest import write_cifar, write_image, write_lmdb, write_mnist_idx
from datasets import DataError

MUTANTS = 40


def mutate(data, rng):
    """One to four random edits of ``data``."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(('flip', 'cut', 'insert', 'repeat', 'zero'))
        at = rng.randrange(max(len(data), 1))
        if kind == 'flip' and data:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 'cut':
            del data[at:at + rng.randint(1, max(len(data) // 4, 1))]
        elif kind == 'insert':
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif kind == 'repeat':
            data[at:at] = data[at:at + rng.randint(1, 64)]
        else:
            data[at:at + 8] = bytes(8)
    return bytes(data)


def read_all(load):
    source = load()
    for start in range(0, len(source), 4):
        images, labels = source.read(np.arange(start, min(start + 4, len(source))))
        assert images.dtype == np.uint8 and len(images) == len(labels)


def fuzz(tmp_path, make, victim, load, seed):
    """``make(dir)`` writes a valid dataset; mutants of its file ``victim`` must read or fail
    cleanly. Returns how many mutants were refused."""
    rng, refused = random.Random(seed), 0
    clean = tmp_path / 'clean'
    make(clean)
    original = (clean / victim).read_bytes()
    for i in range(MUTANTS):
        case = tmp_path / 'm{}'.format(i)
        shutil.copytree(str(clean), str(case))
        (case / victim).write_bytes(mutate(original, rng))
        try:
            read_all(lambda: load(case))
        except DataError as error:
            assert victim.split('/')[-1] in str(error) or str(case) in str(error), str(error)
            refused += 1
    return refused


@pytest.mark.parametrize('fmt', ['png', 'jpg', 'webp', 'bmp'])
def test_image_folder_mutants(tmp_path, fmt):
    def make(directory):
        for i in range(3):
            write_image(directory / 'cls' / '{}.{}'.format(i, fmt), size=(20, 16), seed=i)
    refused = fuzz(tmp_path, make, 'cls/1.{}'.format(fmt),
                   lambda d: datasets.get('folder')(str(d), 8, 3), seed=len(fmt))
    assert refused > 0


def test_cifar_pickle_mutants(tmp_path):
    refused = fuzz(tmp_path, lambda d: write_cifar(d, n=4), 'data_batch_3',
                   lambda d: datasets.get('cifar10')(str(d), 8, 3), seed=1)
    assert refused > MUTANTS // 2


@pytest.mark.parametrize('gz', [True, False])
def test_mnist_idx_mutants(tmp_path, gz):
    name = 'train-images-idx3-ubyte' + ('.gz' if gz else '')
    refused = fuzz(tmp_path, lambda d: write_mnist_idx(d, n=4, gz=gz), name,
                   lambda d: datasets.get('mnist')(str(d), 28, 1), seed=2)
    assert refused > MUTANTS // 2


def test_lsun_lmdb_value_mutants(tmp_path):
    """The lmdb file itself is not fuzzed (its C library trusts it); the encoded images in it
    are."""
    import lmdb
    write_lmdb(tmp_path / 'clean', n=3)
    rng, refused = random.Random(3), 0
    for i in range(MUTANTS):
        case = str(tmp_path / 'm{}'.format(i))
        shutil.copytree(str(tmp_path / 'clean'), case)
        env = lmdb.open(case, map_size=1 << 24)
        with env.begin(write=True) as txn:
            key, original = next(iter(txn.cursor()))
            txn.put(key, mutate(original, rng))
        env.close()
        try:
            read_all(lambda: datasets.get('lsun_lmdb')(case, 8, 3))
        except DataError as error:
            assert key.decode('ascii') in str(error), str(error)
            refused += 1
    assert refused > 0
