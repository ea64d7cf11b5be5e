"""DiffAugment (tflib/augment.py) against a NumPy reference of the paper's DiffAugment_tf.py."""
import numpy as np
import pytest

import numpy_ref
from tflib import augment, steps
from tflib.compat import tf
from tflib.config import ConfigError


def run(policy, images, fill, seed=0):
    """The graph's augmented ``images`` and the draws it took."""
    n, size = images.shape[0], images.shape[1]
    values = steps.draw(augment.draws(policy, n, size, 'aug_'), np.random.default_rng(seed))
    with tf.Graph().as_default(), tf.Session() as session:
        out = session.run(augment.apply(tf.constant(images), policy,
                                        {k: tf.constant(v) for k, v in values.items()},
                                        'aug_', fill))
    return out, values


def reference(policy, images, values, fill):
    size = images.shape[1]
    x = images.astype(np.float64)
    for name in augment.parse(policy):
        if name == 'color':
            x = numpy_ref.diffaug_color(x, *[values['aug_' + k] for k in
                                             ('brightness', 'saturation', 'contrast')])
        elif name == 'translation':
            shift = values['aug_shift'] - size // 8
            x = numpy_ref.diffaug_translation(x, shift[:, 0], shift[:, 1], fill)
        else:
            x = numpy_ref.diffaug_cutout(x, values['aug_cutout'][:, 0], values['aug_cutout'][:, 1],
                                         fill)
    return x


@pytest.mark.parametrize('policy', ['color', 'translation', 'cutout',
                                    'color,translation,cutout', 'cutout,translation'])
@pytest.mark.parametrize('size,fill', [(32, 0.), (16, -1.), (28, -1.)])
def test_the_transforms_are_the_papers(policy, size, fill):
    images = np.random.RandomState(size).uniform(-1, 1, (24, size, size, 3)).astype(np.float32)
    out, values = run(policy, images, fill)
    np.testing.assert_allclose(out, reference(policy, images, values, fill), atol=2e-6)


def test_the_draws_cover_the_papers_ranges():
    """Shifts in [-size/8, size/8] (DiffAugment_tf.py: W * 1 // 8), cutout offsets in
    [0, size + 1 - (size // 2) % 2); every value taken."""
    for size in (28, 32):
        draws = augment.draws('translation,cutout', 4000, size, '')
        values = steps.draw(draws, np.random.default_rng(1))
        assert set(np.unique(values['shift'] - size // 8)) == set(range(-(size // 8),
                                                                        size // 8 + 1))
        assert set(np.unique(values['cutout'])) == set(range(size + 1 - (size // 2) % 2))


def test_a_shifted_in_pixel_is_the_fill_and_gradients_pass():
    images = np.zeros((2, 8, 8, 1), np.float32)
    values = {'shift': np.array([[1, 1], [0, 2]], np.int32)}  # + shift_range 1: (0, 0), (-1, 1)
    with tf.Graph().as_default(), tf.Session() as session:
        x = tf.constant(images)
        out = augment.apply(x, 'translation', {k: tf.constant(v) for k, v in values.items()}, '',
                            -1.)
        gradient = tf.gradients(tf.reduce_sum(out), [x])[0]
        out, gradient = session.run([out, gradient])
    assert (out[0] == 0).all()
    assert (out[1, 0] == -1).all() and (out[1, :, -1] == -1).all()
    assert (out[1, 1:, :-1] == 0).all()
    assert gradient[1].sum() == 7 * 7 and (gradient[0] == 1).all()


@pytest.mark.parametrize('policy', ['colour', 'color,color', 'color;cutout'])
def test_unknown_policies_are_refused(policy):
    with pytest.raises(ConfigError, match='--diffaug'):
        augment.parse(policy)
