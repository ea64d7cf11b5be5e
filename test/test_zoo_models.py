"""WGAN, DCGAN and CGAN: their networks, their training rules, and each through the whole
toolchain (train, resume, fine-tune, score, freeze) on the shared loop."""
import functools
import importlib.util
import json

import numpy as np
import pytest

import datasets.base
import freeze_graph
import gan_eval
import gan_train
import models
from conftest import new_session
from models import cgan, dcgan, wgan
from tflib import gan as gan_lib
from tflib import params
from tflib.compat import tf
from zoo import settings

HAS_ONNX = all(importlib.util.find_spec(m) for m in ('tf2onnx', 'onnxruntime'))
TINY = {  # model, preset, flags (a seed's flag names where it has them)
    'wgan': (wgan, 'wgan_lsun', ['--imageSize', '16', '--nz', '8', '--ngf', '8', '--ndf', '8',
                                 '--batchSize', '4', '--Diters', '2', '--warmup_Diters', '3',
                                 '--warmup_g_iters', '1', '--n_extra_layers', '1',
                                 '--dataset', 'mnist_builtin', '--nc', '1']),
    'wgan_nobn': (wgan, 'wgan_lsun_nobn', ['--imageSize', '16', '--nz', '8', '--ngf', '8',
                                           '--ndf', '8', '--batchSize', '4', '--Diters', '2',
                                           '--warmup_g_iters', '0', '--adam',
                                           '--dataset', 'mnist_builtin', '--nc', '1']),
    'dcgan': (dcgan, 'dcgan_imagenet32', ['--feature_size', '4', '--latent_size', '8',
                                          '--batch_size', '8', '--dataset', 'mnist_builtin',
                                          '--CHANNELS', '1']),
    'cgan': (cgan, 'cgan_mnist_mlp', ['--batch_size', '8']),
    'cgan_conv': (cgan, 'cgan_mnist', ['--batch_size', '8']),
}
COMMON = ['--ITERS', '2', '--LOG_STEP', '1', '--device', 'cpu', '--data_path', '']


def tiny_cfg(name, **overrides):
    """The model config TINY[name]'s flags give."""
    model, preset, flags = TINY[name]
    return model, settings.model_values(settings.request(['--preset', preset] + flags),
                                        **overrides)


def digits_inputs(cfg, seed=0):
    rng = np.random.RandomState(seed)
    size, channels = cfg['IMAGE_SIZE'], cfg['CHANNELS']
    source = datasets.base.ArraySource('random', rng.randint(
        0, 256, (4 * cfg['batch_size'], size, size, channels), np.uint8),
        rng.randint(0, 10, 4 * cfg['batch_size']), 10)
    return datasets.base.step_inputs(source, cfg['batch_size'], seed)


@pytest.mark.parametrize('model,overrides,n_gen,n_disc', [
    (wgan, {}, 3576704, 2765568), (wgan, dict(noBN=True), 3574784, 2765568),
    (dcgan, {}, 3448576, 2637312)])
def test_parameter_counts_match_the_originals(model, overrides, n_gen, n_disc):
    """Arjovsky's DCGAN_G/DCGAN_D at 64x64 (ngf = ndf = 64) and seed 003's 32x32 nets."""
    cfg = model.config(**overrides)
    with new_session():
        model.discriminator(cfg, model.generator(cfg, 2))
        counts = [sum(int(np.prod(v.shape.as_list())) for v in params.params_with_name(p, True))
                  for p in ('Generator', 'Discriminator.')]
    assert counts == [n_gen, n_disc]


@pytest.mark.parametrize('arch,size,n_gen,n_disc', [
    ('mlp', 28, 2413984, 1224351), ('conv', 32, 1477480, 672640)])
def test_cgan_parameter_counts(arch, size, n_gen, n_disc):
    """The paper's MLP (G 200 + 1000 -> 1200 -> 784; maxout D 240x5, 50x5, 240x4) and the
    seed's conv model (its README: G 1.48M, D 0.67M parameters; convolutions without biases)."""
    cfg = cgan.config(ARCH=arch, IMAGE_SIZE=size)
    with new_session():
        labels = tf.zeros([2], tf.int32)
        cgan.discriminator(cfg, cgan.generator(cfg, 2, labels), labels)
        counts = [sum(int(np.prod(v.shape.as_list())) for v in params.params_with_name(p, True))
                  for p in ('Generator', 'Discriminator.')]
        keys = {v.op.name: v.shape.as_list() for v in params.all_params()}
    assert counts == [n_gen, n_disc]
    if arch == 'mlp':
        assert keys['Discriminator.X/Discriminator.X.W'] == [784, 240 * 5]
        assert keys['Generator.Joint/Generator.Joint.W'] == [1200, 1200]


def test_parameter_keys():
    cfg = wgan.config(IMAGE_SIZE=32, n_extra_layers=1)
    with new_session():
        images = wgan.generator(cfg, 2)
        wgan.discriminator(cfg, images)
        keys = {v.op.name: v.shape.as_list() for v in params.all_params()}
    assert keys['Generator.Input/Generator.Input.W'] == [100, 16 * 256]
    assert keys['Generator.Up1/Generator.Up1.Filters'] == [4, 4, 128, 256]
    assert keys['Generator.Extra1/Generator.Extra1.Filters'] == [3, 3, 64, 64]
    assert keys['Generator.Output/Generator.Output.Filters'] == [4, 4, 3, 64]
    assert keys['Discriminator.Input/Discriminator.Input.Filters'] == [4, 4, 3, 64]
    assert keys['Discriminator.Down2/Discriminator.Down2.Filters'] == [4, 4, 128, 256]
    assert keys['Discriminator.Output/Discriminator.Output.W'] == [16 * 256, 1]
    assert 'Discriminator.Down1N.scale' in keys and 'Discriminator.InputN.scale' not in keys
    assert not [k for k in keys if k.endswith('Biases')], 'DCGAN convolutions have no biases'


def test_wgan_clipping_and_warm_up():
    """After a critic step every critic parameter (BN scales too) is within the clamp, the
    generator is untouched, and the critic schedule warms up as the original's main.py."""
    _, cfg = tiny_cfg('wgan', clamp_lower=-0.005, clamp_upper=0.004)
    lower, upper = np.float32(-0.005), np.float32(0.004)  # as float32 weights hold them
    with new_session() as session:
        pipeline = digits_inputs(cfg)
        gan = models.get('wgan').build(cfg, pipeline, step_by_step=True)
        session.run([tf.global_variables_initializer(), pipeline.initializer])
        critic = params.params_with_name('Discriminator.', trainable_only=True)
        assert max(np.abs(v).max() for v in session.run(critic)) > 0.01  # N(1, .02) BN scales
        generator_before = session.run(params.params_with_name('Generator'))
        session.run(gan.disc_train_op)
        values = np.concatenate([v.ravel() for v in session.run(critic)])
        assert values.min() >= lower and values.max() <= upper
        assert (values == upper).any() and (values == lower).any()
        for before, after in zip(generator_before,
                                 session.run(params.params_with_name('Generator'))):
            np.testing.assert_array_equal(before, after)
        session.run(gan.train_op)
        values = np.concatenate([v.ravel() for v in session.run(critic)])
        assert values.min() >= lower and values.max() <= upper
    full = wgan.config()
    assert [wgan.critic_steps(full, s) for s in (0, 24, 25, 26, 499, 500, 501)] == \
        [100, 100, 5, 5, 5, 100, 5]


def test_rmsprop_starts_from_a_zero_mean_square():
    """First RMSProp step = lr * g / sqrt(0.01 g^2 + eps) ~ 10 lr sign(g), as in PyTorch."""
    with new_session() as session:
        var = tf.Variable([1., -2.])
        step = wgan.RMSProp(0.1, decay=0.99, epsilon=1e-8).minimize(tf.reduce_sum(3. * var))
        session.run(tf.global_variables_initializer())
        session.run(step)
        np.testing.assert_allclose(session.run(var), [1. - 1., -2. - 1.], atol=1e-5)


@pytest.mark.parametrize('name', sorted(TINY))
@pytest.mark.slow
def test_one_fused_iteration_trains_both_networks(name):
    model, cfg = tiny_cfg(name)
    with new_session() as session:
        pipeline = digits_inputs(cfg)
        gan = models.get(model.__name__.split('.')[-1]).build(cfg, pipeline)
        session.run([tf.global_variables_initializer(), pipeline.initializer])
        networks = [params.params_with_name(p, True) for p in ('Generator', 'Discriminator.')]
        before = session.run(networks)
        metrics = session.run([gan.train_op, gan.train_metrics])[1]
        after = session.run(networks)
        assert session.run(gan.step) == 1
    assert all(np.isfinite(v) for v in metrics.values()) and 'loss_g' in metrics
    for name, old, new in zip(('generator', 'critic'), before, after):
        changed = [np.abs(a - b).max() > 0 for a, b in zip(old, new)]
        assert sum(changed) >= len(changed) // 2, name


def test_dcgan_discriminator_scores_and_bce():
    _, cfg = tiny_cfg('dcgan')
    with new_session() as session:
        pipeline = digits_inputs(cfg)
        gan = models.get('dcgan').build(cfg, pipeline, step_by_step=True)
        session.run([tf.global_variables_initializer(), pipeline.initializer])
        metrics = session.run(gan.disc_metrics)
    assert 0 < metrics['d_real'] < 1 and 0 < metrics['d_fake'] < 1
    # Untrained: D(x) ~ 1/2 for every input, so the summed BCE is ~ 2 log 2.
    assert abs(metrics['loss_d'] - 2 * np.log(2)) < 0.3


@pytest.mark.parametrize('name', sorted(TINY))
@pytest.mark.slow
def test_train_resume_score_and_freeze(tmp_path, capsys, name):
    """Each model through the shared toolchain: gan_train (then resumed), gan_eval on the
    checkpoint, freeze_graph to .pb (and .onnx) matching the checkpoint."""
    model, preset, flags = TINY[name]
    out = str(tmp_path / 'run')
    assert gan_train.main(['--preset', preset, '--output_path', out] + flags + COMMON) == 0
    assert gan_train.main(['--preset', preset, '--output_path', out] + flags + COMMON +
                          ['--ITERS', '3']) == 0
    text = capsys.readouterr().out
    assert 'resuming' in text and 'step: 3/3' in text
    meta = json.load(open(tmp_path / 'run' / 'meta.json'))
    assert meta['model'] == models.get(meta['model']).name == model.__name__.split('.')[-1]
    assert meta['step'] == 3
    parzen = ['--parzen', '--parzen_validation', '300'] if model is cgan else []
    assert gan_eval.main(['--ckpt', out, '--n', '200', '--output_dir',
                          str(tmp_path / 'eval')] + parzen) == 0
    text = capsys.readouterr().out
    assert 'inception_200 score' in text
    if parzen:  # 32x32 conv samples are resized to MNIST's 28x28; 1,000 held-out test digits
        assert '1000 test points), protocol paper, 300 validation points' in text
    export = ['--ckpt', out, '--output', str(tmp_path / 'G.pb')]
    if HAS_ONNX:
        export += ['--onnx', str(tmp_path / 'G.onnx')]
    assert freeze_graph.main(export) == 0
    text = capsys.readouterr().out
    assert 'max |difference| from the checkpoint' in text


def test_finetune_a_wgan_from_another_run(tmp_path, capsys):
    _, preset, flags = TINY['wgan']
    source = str(tmp_path / 'source')
    assert gan_train.main(['--preset', preset, '--output_path', source] + flags + COMMON) == 0
    assert gan_train.main(['--preset', preset, '--output_path', str(tmp_path / 'target'),
                           '--finetune_from', source] + flags + COMMON) == 0
    text = capsys.readouterr().out
    assert 'missing 0' in text and 'shape-mismatched 0' in text


def test_epochs_set_the_iterations_unless_iters_is_given():
    """Seed presets count epochs (as their scripts do); an explicit --ITERS wins."""
    cfg = settings.request(['--preset', 'dcgan_imagenet32']).values
    assert cfg['EPOCHS'] == 20.
    cfg = settings.request(['--preset', 'dcgan_imagenet32', '--ITERS', '5']).values
    assert cfg['EPOCHS'] == 0. and cfg['ITERS'] == 5
    cfg = settings.request(['--preset', 'wgan_lsun', '--niter', '2', '--ITERS', '5']).values
    assert cfg['EPOCHS'] == 2.
    # One epoch of 100 batches at Diters 5 after 25 warm-up iterations of 100 critic steps.
    schedule = functools.partial(wgan.critic_steps, wgan.config())
    assert gan_lib.iterations_for_epochs(1, 100, schedule) == 1
    assert gan_lib.iterations_for_epochs(30, 100, schedule) == 25 + (3000 - 2500) // 5


def test_epochs_run_records_and_resumes_its_iterations(tmp_path, capsys):
    """ITERS from EPOCHS is in config.json and meta.json, so a rerun finds nothing changed."""
    out = str(tmp_path / 'run')
    flags = ['--preset', 'cgan_mnist_mlp', '--batch_size', '8', '--EPOCHS', '0.01',
             '--device', 'cpu', '--output_path', out]
    assert gan_train.main(flags) == 0
    assert '0.01 epochs of 4000 images: 5 generator steps' in capsys.readouterr().out
    assert json.load(open(tmp_path / 'run' / 'config.json'))['ITERS'] == 5
    assert gan_train.main(flags) == 0
    assert 'settings changed' not in capsys.readouterr().out


def test_cgan_dropout_comes_from_the_given_draws():
    """The MLP critic's dropout: a unit survives where its draw is at least the rate, scaled
    by 1 / (1 - rate) (tf.nn.dropout's rule); draws come from the input pipeline, so a step
    drops the same units in the fused and step-by-step loops and after a resume."""
    _, cfg = tiny_cfg('cgan')
    rng = np.random.RandomState(0)
    images = rng.uniform(-1, 1, (8, 28, 28, 1)).astype('float32')
    labels = np.arange(8) % 10
    units = cgan.dropout_units(cfg)
    with new_session() as session:
        logits = [cgan.critic(cfg, images, labels, d)[0] for d in (
            None, np.zeros((8, units), np.float32), np.full((8, units), .99, np.float32),
            rng.uniform(size=(8, units)).astype('float32'))]
        session.run(tf.global_variables_initializer())
        plain, dropped, kept, some = session.run(logits)
        bias = session.run(params.params_with_name('Discriminator.Output')[-1])
    np.testing.assert_allclose(dropped, np.full(8, bias[0]), atol=1e-6)  # all units dropped
    assert np.abs(kept - plain).max() > 1e-4 and np.abs(some - kept).max() > 1e-4
    _, no_rate = tiny_cfg('cgan', DROPOUT=0., INPUT_DROPOUT=0.)
    with new_session() as session:
        pair = [cgan.critic(no_rate, images, labels, d)[0] for d in (
            None, rng.uniform(size=(8, units)).astype('float32'))]
        session.run(tf.global_variables_initializer())
        a, b = session.run(pair)
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize('preset,blocks', [
    ('quickstart', ['1', '2', '3', '4', 'Output', 'ACGANOutput']),
    ('transfer_gan_lsun64', ['Input', 'Res1', 'Res2', 'Res3', 'Res4', 'Output']),
    ('wgan_lsun', ['Input', 'Down1', 'Down2', 'Down3', 'Output']),
    ('cgan_mnist', ['Embedding', 'Down1', 'Down2', 'Down3', 'Output']),
    ('dcgan_digits', ['Input', 'Down1', 'Down2', 'Output']),
    ('cgan_mnist_mlp', ['X', 'Y', 'Joint', 'Output']),
    ('pgan_tiny', ['FromRGB_16x16', '16x16', '8x8', '4x4']),
])
def test_freeze_d_counts_critic_blocks_from_the_input(preset, blocks):
    """--freeze_d K freezes the first K of these (tflib.gan.critic_blocks, creation order)."""
    req = settings.request(['--preset', preset])
    model, cfg = req.model, settings.model_values(req)
    with tf.Graph().as_default():
        size, channels = cfg['IMAGE_SIZE'], cfg['CHANNELS']
        images = tf.zeros([2, size, size, channels])
        labels = tf.zeros([2], tf.int32) if model.critic_sees_labels else None
        model.discriminator(cfg, images, labels=labels)
        found = list(gan_lib.critic_blocks())
    assert found == ['Discriminator.' + b for b in blocks]


def test_freeze_d_is_refused_for_a_growing_critic(capsys):
    """PGAN's later phases add blocks at the input: those would be frozen at random weights."""
    assert gan_train.main(['--preset', 'pgan_tiny', '--freeze_d', '1', '--finetune_from',
                           'source.ckpt', '--device', 'cpu']) == 2
    assert '--freeze_d: pgan grows its critic phase by phase' in capsys.readouterr().err
