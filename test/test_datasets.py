"""Every loader reads its real on-disk format; bad files give one-line errors naming them."""
import itertools

import numpy as np
import pytest

import datasets
import datasets.base
from conftest import (new_session, write_cifar, write_folder, write_image, write_lmdb,
                      write_mnist_idx)
from datasets import DataError
from tflib import steps


def first_batches(source, batch_size, n=2, seed=0):
    with new_session() as session:
        images, labels = datasets.batches(source, batch_size, seed)()
        assert images.shape.as_list() == [batch_size] + list(source.read([0])[0].shape[1:])
        assert labels.shape.as_list() == [batch_size]
        return [session.run([images, labels]) for _ in range(n)]


def test_cifar10_pickles(tmp_path):
    written = write_cifar(tmp_path)
    source = datasets.get('cifar10')(str(tmp_path), 32, 3, 'train')
    assert len(source) == 50 and source.n_classes == 10
    data, labels = written['data_batch_2']
    image, label = source.read([10])
    # CHW-flattened rows become HWC images.
    np.testing.assert_array_equal(image[0], data[0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert label[0] == labels[0]
    test = datasets.get('cifar10')(str(tmp_path), 32, 3, 'test')
    assert len(test) == 10


def test_batches_are_static_scaled_and_repeatable(tmp_path):
    write_cifar(tmp_path)
    source = datasets.get('cifar10')(str(tmp_path), 32, 3)
    (a, la), (b, lb) = first_batches(source, 8)
    (c, lc), _ = first_batches(source, 8)
    assert a.dtype == np.float32 and la.dtype == np.int32
    assert a.min() >= -1 and a.max() <= 1 and a.min() < -0.9 and a.max() > 0.9
    np.testing.assert_array_equal(a, c)   # same seed, same batches
    np.testing.assert_array_equal(la, lc)
    assert not np.array_equal(a, b)       # a fresh batch per run
    (d, _), _ = first_batches(source, 8, seed=1)
    assert not np.array_equal(a, d)
    # Images and labels stay paired: each batch image is a source image with its label.
    images, labels = source.read(np.arange(len(source)))
    for image, label in zip(a, la):
        index = np.argmin(np.abs(images / 127.5 - 1. - image).reshape(len(images), -1).sum(1))
        np.testing.assert_allclose(images[index] / 127.5 - 1., image, atol=1e-6)
        assert labels[index] == label


SPEC = steps.StepSpec(critic={'noise': steps.normal(3), 'mix': steps.uniform(1, 1)},
                      generator={'labels': steps.integers(4, 6)}, fused_critic_steps=2,
                      critic_steps=lambda step: 4 if step % 3 == 0 else 2)


def test_elements_and_batches_follow_the_critic_schedule():
    assert list(itertools.islice(steps.elements(SPEC, 2), 5)) == [
        (2, 0), (3, 0), (3, 1), (4, 0), (5, 0)]
    assert steps.critic_batches(SPEC, 0, 4) == (4 + 2 + 2 + 4)
    assert steps.critic_batches(SPEC, 1, 4) == 8
    with pytest.raises(ValueError, match='4 critic steps at step 0 are not a multiple of 3'):
        steps.blocks(SPEC._replace(fused_critic_steps=3), 0)


def elements(source, n, **kwargs):
    """The first ``n`` elements of ``step_inputs(source, 8, **kwargs)`` for SPEC."""
    with new_session() as session:
        pipeline = datasets.base.step_inputs(source, 8, **kwargs)
        element = pipeline(SPEC)
        session.run(pipeline.initializer)
        return [session.run(element) for _ in range(n)]


def test_step_inputs_deliver_an_iteration_per_element(tmp_path):
    """One element holds a block of critic steps' real batches and draws, and the generator
    step's draws; an iteration with twice the critic steps takes two elements."""
    write_cifar(tmp_path)
    source = datasets.get('cifar10')(str(tmp_path), 32, 3)
    first = elements(source, 3, seed=5)
    assert first[0]['images'].shape == (2, 8, 32, 32, 3) and first[0]['labels'].shape == (2, 8)
    assert first[0]['critic/noise'].shape == (2, 3) and first[0]['critic/mix'].shape == (2, 1, 1)
    assert first[0]['generator/labels'].dtype == np.int32
    assert 0 <= first[0]['generator/labels'].min() and first[0]['generator/labels'].max() < 4
    # Step 0 takes elements 0 and 1 (4 critic steps), step 1 element 2: each its own draws
    # and the next real batches of the stream.
    stream = datasets.base.BatchStream(source, 8, 5, 0)  # seed, first step of the phase
    for index, element in enumerate(first):
        for k in range(2):
            images, labels = stream.take(2 * index + k)
            np.testing.assert_allclose(element['images'][k], images / 127.5 - 1., atol=1e-6)
            np.testing.assert_array_equal(element['labels'][k], labels)
    assert not np.array_equal(first[0]['critic/noise'], first[1]['critic/noise'])
    assert [e['images'].min() >= -1 and e['images'].max() <= 1 for e in first] == [True] * 3
    # A resumed pipeline (from step 1) reads what the uninterrupted one reads there.
    resumed = elements(source, 1, seed=5, start=1)[0]
    for key, value in first[2].items():
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)
    # Another rank draws other numbers; another seed another order.
    other = elements(source, 1, seed=5, rank=1)[0]
    assert not np.array_equal(other['critic/noise'], first[0]['critic/noise'])
    np.testing.assert_array_equal(other['images'], first[0]['images'])


def test_held_out_images_are_split_off_and_delivered_apart():
    """``split`` holds a seeded share out; a spec with ``holdout`` gets that many of those per
    critic step (with replacement), the real batches none of them, a resume the same ones."""
    images = np.arange(40, dtype=np.uint8).reshape(40, 1, 1, 1) * 6
    source = datasets.base.ArraySource('grey', images, np.arange(40) % 4, 4)
    train, held = datasets.base.split(source, 10, seed=3)
    assert (len(train), len(held)) == (30, 10) and held.n_classes == 4
    held_values = set(held.read(np.arange(10))[0].ravel())
    assert held_values.isdisjoint(train.read(np.arange(30))[0].ravel())
    assert list(datasets.base.split(source, 10, seed=3)[1].indices) == list(held.indices)
    spec = SPEC._replace(holdout=5)

    def run(start, n, dequantize=False):
        with new_session() as session:
            pipeline = datasets.base.step_inputs(train, 8, seed=1, start=start, held_out=held,
                                                 dequantize=dequantize)
            element = pipeline(spec)
            session.run(pipeline.initializer)
            return [session.run(element) for _ in range(n)]

    first = run(0, 3)
    for element in first:
        assert element['holdout'].shape == (2, 5, 1, 1, 1)
        assert set(np.rint((element['holdout'].ravel() + 1.) * 127.5)) <= held_values
        assert held_values.isdisjoint(np.rint((element['images'].ravel() + 1.) * 127.5))
    np.testing.assert_array_equal(run(1, 1)[0]['holdout'], first[2]['holdout'])
    noisy = (run(0, 1, dequantize=True)[0]['holdout'] + 1.) * 128.  # like the real batches
    centres = np.array(sorted(held_values)) + .5
    assert np.abs(noisy.reshape(-1, 1) - centres).min(axis=1).max() <= .5 + 1e-4
    assert (noisy % 1).max() > .1
    with pytest.raises(DataError, match='grey: cannot hold 40 of its 40 images out'):
        datasets.base.split(source, 40)


def test_step_inputs_dequantize_adds_less_than_one_grey_level(tmp_path):
    write_cifar(tmp_path)
    source = datasets.get('cifar10')(str(tmp_path), 32, 3)
    noisy = elements(source, 1, dequantize=True)[0]['images']
    plain = elements(source, 1)[0]['images']
    integer = np.rint((plain + 1.) * 127.5)
    dequantized = (noisy + 1.) * 128. - integer
    assert dequantized.min() >= 0. and dequantized.max() < 1. + 1e-4
    assert noisy.min() >= -1. and noisy.max() < 1.


@pytest.mark.parametrize('gz', [True, False])
def test_mnist_idx(tmp_path, gz):
    images, labels = write_mnist_idx(tmp_path, gz=gz)
    source = datasets.get('mnist')(str(tmp_path), 32, 1)
    got, got_labels = source.read(np.arange(len(source)))
    assert got.shape == (12, 32, 32, 1)
    np.testing.assert_array_equal(got[:, 2:30, 2:30, 0], images)  # padded by 2
    assert (got[:, :2] == 0).all()
    np.testing.assert_array_equal(got_labels, labels)
    rgb = datasets.get('mnist')(str(tmp_path), 32, 3)
    assert rgb.read([0])[0].shape == (1, 32, 32, 3)
    native = datasets.get('mnist')(str(tmp_path), 28, 1)
    np.testing.assert_array_equal(native.read(np.arange(12))[0][..., 0], images)  # unpadded
    # Generated 32x32 digits go back to MNIST's frame (for the Parzen score) by the inverse.
    framed = datasets.mnist.to_digit_frame(got.astype(np.float32))
    np.testing.assert_array_equal(framed[..., 0], images)


def test_builtin_mnist_digits():
    train = datasets.get('mnist_builtin')('', 32, 1, 'train')
    test = datasets.get('mnist_builtin')('', 32, 1, 'test')
    images, labels = train.read(np.arange(len(train)))
    assert len(train) == 4000 and len(test) == 1000 and train.n_classes == 10
    assert np.bincount(labels).tolist() == [400] * 10
    assert np.bincount(test.read(np.arange(1000))[1]).tolist() == [100] * 10
    assert labels[:20].tolist() == list(range(10)) * 2, 'classes interleaved'
    assert np.bincount(labels[-400:]).tolist() == [40] * 10
    # Real digits: dark background, a bright stroke in the middle.
    assert images[:, :2].max() == 0 and images.max() == 255
    assert images[:, 8:24, 8:24].mean() > 4 * images.mean() / 2


def test_image_folder_mixed_modes_sizes_and_classes(tmp_path):
    write_folder(tmp_path)
    source = datasets.get('folder')(str(tmp_path), 16, 3)
    assert len(source) == 6 and source.n_classes == 2
    images, labels = source.read(np.arange(6))
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    gray = datasets.get('folder')(str(tmp_path), 8, 1)
    assert gray.read([0, 1])[0].shape == (2, 8, 8, 1)
    first = first_batches(source, 4, n=1)[0][0]
    assert first.shape == (4, 16, 16, 3) and -1 <= first.min() and first.max() <= 1


def test_image_folder_center_crops(tmp_path):
    from PIL import Image
    array = np.zeros((20, 60, 3), np.uint8)
    array[:, 20:40] = 255  # the centre square is white, the sides black
    (tmp_path / 'x').mkdir()
    Image.fromarray(array).save(str(tmp_path / 'x' / 'wide.png'))
    image = datasets.get('folder')(str(tmp_path / 'x'), 10, 3).read([0])[0][0]
    assert image.min() > 200


def test_image_folder_splits_and_unlabelled(tmp_path):
    for split in ('train', 'val'):
        for name in ('church', 'tower'):
            write_image(tmp_path / 'lsun' / name / split / '0.png')
    source = datasets.get('folder')(str(tmp_path / 'lsun'), 8, 3, 'train')
    assert len(source) == 2 and source.class_names == ['church', 'tower']
    write_image(tmp_path / 'flat' / 'a.png')
    write_image(tmp_path / 'flat' / 'b.jpg')
    flat = datasets.get('folder')(str(tmp_path / 'flat'), 8, 3)
    assert len(flat) == 2 and flat.n_classes is None


def test_celeba_takes_the_authors_crop_and_partition(tmp_path):
    from PIL import Image
    faces = tmp_path / 'img_align_celeba'
    faces.mkdir()
    array = np.zeros((218, 178, 3), np.uint8)
    array[121 - 64:121 + 64, 89 - 64:89 + 64] = 200  # the 128x128 box tkarras crops
    for i in range(3):
        Image.fromarray(array).save(str(faces / '{:06d}.png'.format(i + 1)))
    train = datasets.get('celeba')(str(faces), 32, 3)
    images, _ = train.read([0])
    assert images.shape == (1, 32, 32, 3) and images.min() == 200 and train.n_classes is None
    (tmp_path / 'list_eval_partition.txt').write_text('000001.png 0\n000002.png 2\n'
                                                      '000003.png 2\n')
    assert len(datasets.get('celeba')(str(faces), 8, 3)) == 1
    assert len(datasets.get('celeba')(str(faces), 8, 3, 'test')) == 2
    write_image(faces / '000004.png', size=(64, 64))
    with pytest.raises(datasets.DataError, match='000004.png: 64x64, not an aligned CelebA'):
        datasets.get('celeba')(str(faces), 8, 3).decode(str(faces / '000004.png'))


def test_lsun_lmdb(tmp_path):
    write_lmdb(tmp_path / 'bedroom_train_lmdb')
    source = datasets.get('lsun_lmdb')(str(tmp_path / 'bedroom_train_lmdb'), 16, 3)
    assert len(source) == 6 and source.n_classes is None
    images, _ = source.read([0, 5])
    assert images.shape == (2, 16, 16, 3)
    import io
    from PIL import Image
    from datasets.base import fit
    with source.env.begin() as txn:
        value = txn.get(('%040x' % 5).encode('ascii'))
    np.testing.assert_array_equal(images[1], fit(Image.open(io.BytesIO(value)), 16, 3))


@pytest.mark.parametrize('damage,pattern', [
    ('truncate', r'data_batch_3: not a complete CIFAR-10 python pickle'),
    ('garbage', r'data_batch_3: not a complete CIFAR-10 python pickle'),
    ('missing', r'data_batch_3: cannot read CIFAR-10 batch'),
    ('shape', r'data_batch_3: expected data \[N, 3072\]'),
])
def test_bad_cifar(tmp_path, damage, pattern):
    import pickle
    write_cifar(tmp_path)
    path = tmp_path / 'data_batch_3'
    if damage == 'truncate':
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == 'garbage':
        path.write_bytes(b'not a pickle at all')
    elif damage == 'missing':
        path.unlink()
    else:
        with open(str(path), 'wb') as f:
            pickle.dump({b'data': np.zeros((4, 100), np.uint8), b'labels': [0] * 4}, f)
    with pytest.raises(DataError, match=pattern):
        datasets.get('cifar10')(str(tmp_path), 32, 3)


def test_bad_mnist(tmp_path):
    write_mnist_idx(tmp_path, gz=False)
    path = tmp_path / 'train-images-idx3-ubyte'
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match='train-images-idx3-ubyte: idx dims'):
        datasets.get('mnist')(str(tmp_path), 32, 1)
    path.write_bytes(b'\x00\x00\x08\x01' + b'\x00' * 20)
    with pytest.raises(DataError, match='train-images-idx3-ubyte: not an MNIST idx file'):
        datasets.get('mnist')(str(tmp_path), 32, 1)
    with pytest.raises(DataError, match='t10k-images-idx3-ubyte.*no such MNIST idx file'):
        datasets.get('mnist')(str(tmp_path), 32, 1, 'test')


def test_bad_folders(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DataError, match='empty: no train images'):
        datasets.get('folder')(str(tmp_path / 'empty'), 8, 3)
    with pytest.raises(DataError, match='nowhere: no such directory'):
        datasets.get('folder')(str(tmp_path / 'nowhere'), 8, 3)
    write_image(tmp_path / 'imgs' / 'good.png')
    (tmp_path / 'imgs' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated jpeg')
    source = datasets.get('folder')(str(tmp_path / 'imgs'), 8, 3)
    with pytest.raises(DataError, match='broken.jpg: not a readable image'):
        source.read([0])
    (tmp_path / 'imgs' / 'zero.png').write_bytes(b'')  # refused as soon as the folder opens
    with pytest.raises(DataError, match='zero.png: an empty file'):
        datasets.get('folder')(str(tmp_path / 'imgs'), 8, 3)


def test_bad_lmdb(tmp_path):
    with pytest.raises(DataError, match='nothing_lmdb: not a readable lmdb database'):
        datasets.get('lsun_lmdb')(str(tmp_path / 'nothing_lmdb'), 8, 3)
    (tmp_path / 'fake_lmdb').mkdir()
    (tmp_path / 'fake_lmdb' / 'data.mdb').write_bytes(b'\x00' * 100)
    with pytest.raises(DataError, match='fake_lmdb: not a readable lmdb database'):
        datasets.get('lsun_lmdb')(str(tmp_path / 'fake_lmdb'), 8, 3)


def test_too_few_images_and_unknown_dataset(tmp_path):
    write_mnist_idx(tmp_path, n=3)
    with pytest.raises(DataError, match='3 images, fewer than one batch of 4'):
        with new_session():
            datasets.batches(datasets.get('mnist')(str(tmp_path), 32, 1), 4)
    with pytest.raises(DataError, match="unknown dataset 'imagenet'"):
        datasets.get('imagenet')


FACTS = [  # name, needs_path, channels, splits, native frame side (None: the image size)
    ('cifar10', True, 3, ('train', 'test'), None),
    ('mnist', True, 1, ('train', 'test'), 28),
    ('mnist_builtin', False, 1, ('train', 'test'), 28),
    ('folder', True, 3, ('train', 'val', 'valid', 'test'), None),
    ('celeba', True, 3, ('train', 'val', 'valid', 'test'), None),
    ('lsun_lmdb', True, 3, ('train',), None),
]


@pytest.mark.parametrize('name,needs_path,channels,splits,native', FACTS)
def test_datasets_state_their_facts(name, needs_path, channels, splits, native):
    dataset = datasets.get(name)
    assert (dataset.name, dataset.needs_path, dataset.channels, dataset.splits) == \
        (name, needs_path, channels, splits)
    assert dataset.frame_size(32) == (native or 32) and dataset.frame_size(64) == (native or 64)
    images = np.random.RandomState(0).rand(2, 32, 32, channels).astype(np.float32)
    framed = dataset.frame(images)
    assert framed.shape == (2, dataset.frame_size(32), dataset.frame_size(32), channels)
    if native:
        np.testing.assert_array_equal(framed, datasets.mnist.to_digit_frame(images))
    else:
        assert framed is images


@pytest.mark.parametrize('name', ['cifar10', 'mnist', 'mnist_builtin'])
def test_an_unknown_split_is_named_before_any_file_is_read(tmp_path, name):
    with pytest.raises(DataError, match=r'^--split validation: dataset {} has splits train, '
                                        r'test$'.format(name)):
        datasets.get(name)(str(tmp_path / 'nothing'), 32, 1, 'validation')


def test_a_missing_path_is_named_before_any_file_is_read():
    with pytest.raises(DataError, match='^--data_path is required for dataset cifar10$'):
        datasets.get('cifar10')('', 32, 3)


def test_select_keeps_classes_renumbered_and_a_seeded_subset():
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1)
    source = datasets.base.ArraySource('digits', images, np.arange(20) % 10, 10)
    upper = datasets.base.select(source, [5, 6, 7, 8, 9])
    assert len(upper) == 10 and upper.n_classes == 5
    pixels, labels = upper.read(np.arange(10))
    assert list(labels) == list(pixels.ravel() % 10 - 5)
    few = datasets.base.select(source, [9, 5], limit=3, seed=1)
    assert len(few) == 3 and set(few.read(np.arange(3))[1]) <= {0, 1}
    assert list(few.indices) == list(datasets.base.select(source, [9, 5], 3, seed=1).indices)
    assert len(datasets.base.select(source, limit=7)) == 7 and \
        datasets.base.select(source, limit=7).n_classes == 10
    with pytest.raises(DataError, match='classes must be distinct labels 0..9, got \\[3, 12\\]'):
        datasets.base.select(source, [3, 12])
    unlabelled = datasets.base.ArraySource('faces', images)
    with pytest.raises(DataError, match='faces: these images have no labels'):
        datasets.base.select(unlabelled, [1])
