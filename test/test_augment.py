"""DiffAugment (tflib/augment.py) against a NumPy reference of the paper's DiffAugment_tf.py."""
import numpy as np
import pytest

import numpy_ref
from tflib import augment, gan, params, steps
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


def gated(policy, images, strength, seed=0):
    """The graph's ``images`` through ``policy`` at ``strength``, and the draws it took."""
    n, size = images.shape[0], images.shape[1]
    values = steps.draw(augment.draws(policy, n, size, 'aug_', gated=True),
                        np.random.default_rng(seed))
    with tf.Graph().as_default(), tf.Session() as session:
        out = session.run(augment.apply(tf.constant(images), policy,
                                        {k: tf.constant(v) for k, v in values.items()},
                                        'aug_', -1., tf.constant(strength)))
    return out, values


@pytest.mark.parametrize('policy', ['color', 'translation', 'cutout', 'cutout,color'])
def test_each_transform_applies_where_its_gate_is_below_the_strength(policy):
    """Per image and transform: the paper's transform where gate < p, else none; p = 1 is the
    ungated DiffAugment and p = 0 leaves every image as it is."""
    images = np.random.RandomState(3).uniform(-1, 1, (64, 16, 16, 3)).astype(np.float32)
    out, values = gated(policy, images, .5)
    on = values['aug_gate'] < .5
    assert on.any() and (~on).any()
    expected = images.astype(np.float64)
    for i, name in enumerate(augment.parse(policy)):
        full = reference(name, expected, values, -1.)
        expected = np.where(on[:, i, None, None, None], full, expected)
    np.testing.assert_allclose(out, expected, atol=2e-6)
    np.testing.assert_allclose(gated(policy, images, 1.)[0],
                               reference(policy, images, values, -1.), atol=2e-6)
    np.testing.assert_allclose(gated(policy, images, 0.)[0], images, atol=1e-6)


def test_the_strength_steers_towards_the_target_ratio():
    """The ratio (train - held-out) / (train - generated) of mean critic scores; p moves by
    one step up while it is above the target, down while below, within [0, 1], and up when
    the critic ranks training over held-out reals with no margin over generated ones."""
    def steered(p, train, held, generated, target=.3, step=.1):
        with tf.Graph().as_default(), tf.Session() as session:
            var = tf.Variable(p)
            session.run(var.initializer)
            op = augment.steer(var, var.read_value(), *[
                tf.constant(v, tf.float32) for v in (train, held, generated)], target=target,
                step=step)
            ratio = augment.overfitting_ratio(*[tf.constant(v, tf.float32)
                                                for v in (train, held, generated)])
            return session.run(op), session.run(ratio)

    p, ratio = steered(.5, [3., 5.], [2., 2.], [0., 0.])  # (4 - 2) / (4 - 0)
    assert ratio == .5 and p == pytest.approx(.6)
    p, ratio = steered(.5, [4.], [3.6], [0.])
    assert ratio == pytest.approx(.1) and p == pytest.approx(.4)
    assert steered(.95, [4.], [0.], [0.])[0] == 1. and steered(.05, [4.], [4.], [0.])[0] == 0.
    assert steered(.5, [1.], [0.], [2.])[0] == pytest.approx(.6)
    assert steered(.5, [np.inf], [0.], [0.])[0] == .5  # an fp16 overflow: p stays
    assert steered(.5, [np.nan], [0.], [0.])[0] == .5


def test_each_fused_critic_step_reads_and_steers_p_in_turn():
    """assemble runs what a critic cost adds to UPDATE_OPS with its step, and a fused element's
    critic steps read p one after the other: 3 steps up move p by 3 steps in one call, the
    last one reading 2."""
    def recipe():
        w = params.param('Discriminator.w', [], params.constant(1.))
        g = params.param('Generator.w', [], params.constant(1.))
        p = augment.strength()

        def critic_cost(inputs):
            value = p.read_value() * 1.  # a copy the update waits for (a read aliases p)
            tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, augment.steer(  # ratio 1: up
                p, value, tf.ones([2]), tf.zeros([2]), tf.zeros([2]), target=.3, step=.1))
            return w * w, {'read': value}

        return gan.Recipe(
            generator=None, discriminator=None, spec=steps.StepSpec({}, {}, 3, lambda s: 3),
            learning_rates=lambda step: (tf.constant(.1), tf.constant(.1)),
            optimizer=tf.train.GradientDescentOptimizer, critic_cost=critic_cost,
            generator_cost=lambda inputs: (g * g, {}), after_critic=None, after_generator=None)

    with tf.Graph().as_default(), tf.Session() as session:
        built = gan.assemble(recipe(), lambda spec: {'images': tf.zeros([3, 1]),
                                                     'labels': tf.zeros([3, 1], tf.int32)})
        session.run(tf.global_variables_initializer())
        read = session.run([built.train_op, built.train_metrics['read']])[1]
        assert read == pytest.approx(.2) and session.run(augment.strength()) == pytest.approx(.3)


@pytest.mark.parametrize('policy', ['colour', 'color,color', 'color;cutout'])
def test_unknown_policies_are_refused(policy):
    with pytest.raises(ConfigError, match='--diffaug'):
        augment.parse(policy)
