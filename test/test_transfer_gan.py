"""The flagship's networks: checkpoint keys, the original forward pass, layouts, training ops."""
import os

import numpy as np
import pytest

import datasets.base
import numpy_ref as ref
import models
from conftest import NCHW_RUNS, TINY, fixed_inputs, new_session
from models import transfer_gan
from tflib import params
from tflib.compat import tf

TRANSFER_GAN = models.get('transfer_gan')
KEYS_DIR = os.path.join(os.path.dirname(__file__), 'data', 'ckpt_keys')

# The four published variants and the reference key lists of their checkpoints.
VARIANTS = {
    'cifar_resnet_acgan': {},
    'cifar_resnet_uncond': dict(CONDITIONAL=False, ACGAN=False),
    'transfer_gan64_acgan': dict(ARCH='good_resnet', IMAGE_SIZE=64, DIM_G=64, DIM_D=64,
                                 NORMALIZATION_D=True, ACGAN_SCALE_G=1.),
    'transfer_gan64_uncond': dict(ARCH='good_resnet', IMAGE_SIZE=64, DIM_G=64, DIM_D=64,
                                  NORMALIZATION_D=True, CONDITIONAL=False, ACGAN=False),
}


def reference_keys(variant):
    keys = {}
    with open(os.path.join(KEYS_DIR, variant + '.txt')) as f:
        for line in f:
            key, shape = line.rstrip('\n').split('\t')
            keys[key] = [int(d) for d in shape.strip('[]').split(',')]
    return keys


def build_networks(cfg, n=4, seed=0):
    """Placeholders (noise, labels, images) and outputs {fake, scores[, logits]} of G and D."""
    noise = tf.placeholder(tf.float32, [n, cfg['Z_DIM']], name='z')
    labels = tf.placeholder(tf.int32, [n], name='label')
    size = cfg['IMAGE_SIZE']
    images = tf.placeholder(tf.float32, [n, size, size, cfg['CHANNELS']], name='images')
    fake = transfer_gan.generator(cfg, n, labels=labels, noise=noise)
    scores, logits = transfer_gan.discriminator(cfg, images)
    outputs = {'fake': fake, 'scores': scores}
    if logits is not None:
        outputs['logits'] = logits
    return (noise, labels, images), outputs


def feeds(cfg, n=4, seed=0):
    rng = np.random.RandomState(seed)
    size = cfg['IMAGE_SIZE']
    return (rng.randn(n, cfg['Z_DIM']).astype('float32'),
            rng.randint(0, cfg['N_CLASSES'], n).astype('int32'),
            rng.uniform(-1, 1, (n, size, size, cfg['CHANNELS'])).astype('float32'))


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_checkpoint_keys_match_the_authors(variant, tmp_path):
    """A checkpoint of the networks' params has exactly the authors' keys and shapes."""
    cfg = transfer_gan.config(**VARIANTS[variant])
    with new_session() as session:
        build_networks(cfg)
        session.run(tf.global_variables_initializer())
        path = tf.train.Saver(params.all_params()).save(session, str(tmp_path / 'ckpt'))
    saved = dict(tf.train.list_variables(path))
    assert saved == reference_keys(variant)


def test_loads_an_authors_format_checkpoint_and_matches_the_original_forward(tmp_path):
    """A checkpoint written under the reference keys alone (no model code) loads without a
    name map, and G and D then compute what the original networks compute."""
    cfg = transfer_gan.config()
    rng = np.random.RandomState(3)
    values = {k: (0.05 * rng.randn(*shape)).astype('float32')
              for k, shape in reference_keys('cifar_resnet_acgan').items()}
    with new_session() as session:
        variables = [tf.Variable(v, name=k) for k, v in values.items()]
        session.run(tf.global_variables_initializer())
        path = tf.train.Saver(variables).save(session, str(tmp_path / 'wgan-gp.model'))
    z, labels, images = feeds(cfg)
    with new_session() as session:
        (z_ph, labels_ph, images_ph), outputs = build_networks(cfg)
        tf.train.Saver(params.all_params()).restore(session, path)
        out = session.run(outputs, {z_ph: z, labels_ph: labels, images_ph: images})
    forward = ref.Forward({k: v.astype('float64') for k, v in values.items()}, cfg)
    np.testing.assert_allclose(out['fake'], forward.generator(z, labels), atol=2e-4)
    ref_scores, ref_logits = forward.discriminator(images)
    np.testing.assert_allclose(out['scores'], ref_scores, rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(out['logits'], ref_logits, rtol=1e-3, atol=2e-4)


TINY_VARIANTS = {
    'cifar_acgan': TINY['cifar_resnet'],
    'cifar_uncond_norm_d': dict(TINY['cifar_resnet'], CONDITIONAL=False, ACGAN=False,
                                NORMALIZATION_D=True),
    'good_acgan': TINY['good_resnet'],
    'good_uncond': dict(TINY['good_resnet'], CONDITIONAL=False, ACGAN=False),
}


def randomized_values(seed=5):
    """Random values for every registry param of the current graph, by checkpoint key."""
    rng = np.random.RandomState(seed)
    return {v.op.name: (0.3 * rng.randn(*v.shape.as_list())).astype('float32')
            for v in params.all_params()}


@pytest.mark.parametrize('variant', sorted(TINY_VARIANTS))
def test_networks_match_the_original_forward(variant, data_format):
    cfg = transfer_gan.config(data_format=data_format, **TINY_VARIANTS[variant])
    z, labels, images = feeds(cfg, n=6)
    with new_session() as session:
        (z_ph, labels_ph, images_ph), outputs = build_networks(cfg, n=6)
        values = randomized_values()
        for var in params.all_params():
            var.load(values[var.op.name], session)
        out = session.run(outputs, {z_ph: z, labels_ph: labels, images_ph: images})
    forward = ref.Forward({k: v.astype('float64') for k, v in values.items()}, cfg)
    assert out['fake'].shape == (6, cfg['IMAGE_SIZE'], cfg['IMAGE_SIZE'], 3)
    np.testing.assert_allclose(out['fake'], forward.generator(z, labels), atol=1e-4)
    ref_scores, ref_logits = forward.discriminator(images)
    np.testing.assert_allclose(out['scores'], ref_scores, rtol=1e-4, atol=1e-4)
    if cfg['ACGAN']:
        np.testing.assert_allclose(out['logits'], ref_logits, rtol=1e-4, atol=1e-4)
    else:
        assert 'logits' not in out


@pytest.mark.skipif(not NCHW_RUNS, reason='this TensorFlow has no NCHW convolutions on CPU')
@pytest.mark.parametrize('variant', sorted(TINY_VARIANTS))
@pytest.mark.parametrize('saved_in,restored_in', [('NCHW', 'NHWC'), ('NHWC', 'NCHW')])
@pytest.mark.slow
def test_one_checkpoint_two_layouts(variant, saved_in, restored_in, tmp_path):
    """Trained weights saved from a graph in one layout give the same images and critic outputs
    restored into a graph in the other."""
    results = []
    path = str(tmp_path / 'ckpt')
    for fmt in (saved_in, restored_in):
        cfg = transfer_gan.config(data_format=fmt, **TINY_VARIANTS[variant])
        z, labels, images = feeds(cfg)
        with new_session(seed=len(results)) as session:
            (z_ph, labels_ph, images_ph), outputs = build_networks(cfg)
            saver = tf.train.Saver(params.all_params())
            if results:
                saver.restore(session, path)
            else:
                values = randomized_values()
                for var in params.all_params():
                    var.load(values[var.op.name], session)
                saver.save(session, path)
            results.append(session.run(outputs, {z_ph: z, labels_ph: labels,
                                                 images_ph: images}))
    before, after = results
    assert sorted(before) == sorted(after)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('family', sorted(TINY))
@pytest.mark.slow
def test_critic_steps_lower_the_critic_loss(family):
    """The full critic step (gradient penalty's second-order gradient included) runs on CPU
    and, on a fixed generator and a fixed real batch, lowers the critic's loss."""
    cfg = transfer_gan.config(LR=2e-3, DECAY=False, batch_size=8, **TINY[family])
    rng = np.random.RandomState(0)
    size = cfg['IMAGE_SIZE']
    real = np.tanh(rng.randn(8, size, size, 3) + 1.).astype('float32')
    real_labels = rng.randint(0, cfg['N_CLASSES'], 8).astype('int32')
    with new_session() as session:
        gan = TRANSFER_GAN.build(cfg, fixed_inputs(real, real_labels), step_by_step=True)
        session.run(tf.global_variables_initializer())
        generator_before = session.run(params.params_with_name('Generator'))
        costs = [session.run([gan.disc_metrics['loss_d'], gan.disc_train_op])[0]
                 for _ in range(15)]
        generator_after = session.run(params.params_with_name('Generator'))
        assert session.run(gan.step) == 0
    assert all(np.isfinite(costs))
    assert np.mean(costs[-3:]) < np.mean(costs[:3]) - 0.5
    for before, after in zip(generator_before, generator_after):
        np.testing.assert_array_equal(before, after)


def test_generator_step_trains_generator_only_and_decays_lr():
    cfg = transfer_gan.config(ITERS=4, LR=1e-3, batch_size=4, **TINY['cifar_resnet'])
    rng = np.random.RandomState(0)
    real = rng.uniform(-1, 1, (4, 16, 16, 3)).astype('float32')
    with new_session() as session:
        gan = TRANSFER_GAN.build(cfg, fixed_inputs(real, [0, 1, 2, 0]), step_by_step=True)
        session.run(tf.global_variables_initializer())
        critic_before = session.run(params.params_with_name('Discriminator.'))
        generator_before = session.run(params.params_with_name('Generator', True))
        rates = []
        for _ in range(5):
            rates.append(session.run(gan.learning_rate))
            session.run(gan.gen_train_op)
        critic_after = session.run(params.params_with_name('Discriminator.'))
        generator_after = session.run(params.params_with_name('Generator', True))
        moving = session.run(params.params_with_name('Generator.OutputN.moving_mean'))[0]
        assert session.run(gan.step) == 5
    np.testing.assert_allclose(rates, [1e-3, 7.5e-4, 5e-4, 2.5e-4, 0.], atol=1e-9)
    for before, after in zip(critic_before, critic_after):
        np.testing.assert_array_equal(before, after)
    # The last step ran at learning rate 0; every earlier one moved the generator.
    assert all(np.abs(b - a).max() > 0 for b, a in zip(generator_before, generator_after)
               if b.ndim > 1)
    assert np.abs(moving).max() > 0, 'the generator step keeps the BN moving statistics'


def test_parameter_counts_match_the_authors():
    for variant, (n_g, n_d) in {'cifar_resnet_acgan': (1218563, 1055115),
                                'transfer_gan64_acgan': (8584259, 7573771)}.items():
        cfg = transfer_gan.config(**VARIANTS[variant])
        with new_session():
            build_networks(cfg)
            count = [sum(int(np.prod(v.shape.as_list())) for v in params.params_with_name(p))
                     for p in ('Generator', 'Discriminator.')]
        assert count == [n_g, n_d]


@pytest.mark.parametrize('overrides,message', [
    (dict(ARCHH='x'), 'unknown transfer_gan config key'),
    (dict(ARCH='dcgan'), 'ARCH must be one of'),
    (dict(IMAGE_SIZE=36), 'IMAGE_SIZE must be a multiple of 8'),
    (dict(ARCH='good_resnet', IMAGE_SIZE=40), 'IMAGE_SIZE must be a multiple of 16'),
    (dict(CONDITIONAL=False), 'ACGAN needs CONDITIONAL'),
    (dict(data_format='NWHC'), 'data_format must be one of'),
])
def test_bad_config(overrides, message):
    with pytest.raises(ValueError, match=message):
        transfer_gan.config(**overrides)


def _train(fused, iterations=3, grappler=True, **overrides):
    """All variables after ``iterations`` generator iterations on a fixed dataset, run as the
    fused op or step by step."""
    cfg = transfer_gan.config(ITERS=10, batch_size=4, N_CRITIC=2, **dict(TINY['cifar_resnet'],
                                                                          **overrides))
    rng = np.random.RandomState(0)
    source = datasets.base.ArraySource('digits', rng.randint(0, 256, (12, 16, 16, 3), np.uint8),
                                       rng.randint(0, 3, 12))
    with new_session(grappler=grappler) as session:
        pipeline = datasets.base.step_inputs(source, 4, seed=7, dequantize=True)
        gan = TRANSFER_GAN.build(cfg, pipeline, step_by_step=not fused)
        session.run([tf.global_variables_initializer(), pipeline.initializer])
        for _ in range(iterations):
            if fused:
                session.run(gan.train_op)
            else:  # the element once, fed to each step (as zoo.loop.Loop.train_step)
                feed = {gan.inputs[k]: v for k, v in session.run(gan.inputs).items()}
                for index in range(cfg['N_CRITIC']):
                    feed[gan.critic_index] = index
                    session.run(gan.disc_train_op, feed)
                session.run(gan.gen_train_op, feed)
        return {v.op.name: v for v in tf.global_variables()}, session.run(tf.global_variables())


@pytest.mark.slow
def test_fused_step_equals_step_by_step():
    """One session call per generator iteration computes what the step-by-step loop does: same
    batches, same noise, same updates (Adam slots, BN moving stats and step included). Compared
    without grappler: TF 1.15's rewrites the two graphs differently, and Adam turns the rounding
    noise of zero gradients (biases before BatchNorm) into steps of size lr."""
    names, fused = _train(True, grappler=False)
    _, looped = _train(False, grappler=False)
    assert len(names) == len(fused)
    for name, a, b in zip(names, fused, looped):
        np.testing.assert_allclose(a, b, atol=1e-5, err_msg=name)
    # No update races a backprop read of its weight (tflib.gan.GATE_GRADIENTS): repeatable.
    _, first = _train(True)
    _, again = _train(True)
    for name, a, b in zip(names, first, again):
        np.testing.assert_allclose(a, b, atol=1e-6, err_msg=name)
    assert fused[list(names).index('global_step')] == 3
    _, initial = _train(True, iterations=0)
    moved = [name for name, a, b in zip(names, fused, initial)
             if name.startswith('Discriminator.') and np.abs(a - b).max() > 1e-4]
    assert len(moved) > 10, 'the comparison is not vacuous: the critic trained'
