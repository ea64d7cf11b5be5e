"""The generator's moving average (``--G_ema``, models/__init__.py) for every model: the update
rule and its ramp, what reads the average, and checkpoints with and without it (fine-tuning,
resuming, evaluating the authors')."""
import numpy as np
import pytest

import gan_eval
import gan_train
import models
from conftest import TINY_FLAGS, fixed_inputs, new_session
from tflib import checkpoints, params
from tflib.compat import tf
from tflib.config import ConfigError
from zoo import generators, settings

RUN = ['--preset', 'quickstart', '--DIM_G', '4', '--DIM_D', '4', '--batch_size', '4',
       '--N_CRITIC', '1', '--ITERS', '2', '--LOG_STEP', '1', '--device', 'cpu',
       '--INCEPTION_FREQUENCY', '0', '--EXPORT_AT_END', 'false']


PRESETS = {'transfer_gan': 'quickstart', 'wgan': 'wgan_digits', 'dcgan': 'dcgan_digits',
           'cgan': 'cgan_mnist', 'pgan': 'pgan_tiny'}


def tiny(name, *flags):
    """(Model, the model config of its digits preset, tiny flags and ``flags``)."""
    return models.get(name), settings.model_values(settings.request(
        ['--preset', PRESETS[name]] + TINY_FLAGS[name] + list(flags)))


@pytest.mark.parametrize('name', models.NAMES)
def test_every_model_averages_its_trained_generator_params(name):
    """The average starts at the weights, follows avg <- beta avg + (1 - beta) w after each
    generator step, leaves normalisation statistics to the trained generator, and is what the
    GANGraph's generator (grids, scores) reads."""
    model, cfg = tiny(name, '--G_ema', '.9')
    size, channels = cfg['IMAGE_SIZE'], cfg['CHANNELS']
    reals = np.zeros((cfg['batch_size'], size, size, channels), np.float32)
    labels = np.arange(cfg['batch_size']) % 2
    with new_session() as session:
        gan = model.build(cfg, fixed_inputs(reals, labels), phase=model.phases(cfg)[0],
                          step_by_step=True)
        noise = np.random.RandomState(0).randn(4, cfg['Z_DIM']).astype(np.float32)
        conditional = model.signature(cfg).conditional
        label_input = tf.constant(np.arange(4) % 2, tf.int32) if conditional else None
        averaged = gan.generator(4, labels=label_input, noise=tf.constant(noise))
        trained = model.module.generator(cfg, 4, labels=label_input, noise=tf.constant(noise),
                                         phase=model.phases(cfg)[0])
        start = model.start_averages()
        session.run(tf.global_variables_initializer())
        weights = params.params_with_name(models.GENERATOR, True)
        averages = params.params_with_name(models.AVERAGE + '.')
        assert [v.op.name.replace(models.GENERATOR, models.AVERAGE) for v in weights] == \
            [v.op.name for v in averages]
        assert not [v for v in averages if 'moving' in v.op.name]
        before = session.run([weights, averages])
        for w, avg in zip(*before):
            np.testing.assert_array_equal(w, avg)
        session.run(gan.disc_train_op)
        session.run(gan.gen_train_op)
        after = session.run([weights, averages])
        assert np.abs(session.run(averaged) - session.run(trained)).max() > 1e-6
        session.run(start)
        np.testing.assert_allclose(session.run(averaged), session.run(trained), atol=1e-6)
    moved = 0
    for old_w, old_avg, new_w, new_avg in zip(before[0], before[1], after[0], after[1]):
        np.testing.assert_allclose(new_avg, .9 * old_avg + .1 * new_w, rtol=1e-5, atol=1e-7)
        moved += int(np.abs(new_w - old_w).max() > 0)
    assert moved >= len(after[0]) // 2


@pytest.mark.parametrize('name', models.NAMES)
def test_without_an_average_the_generator_is_the_trained_one(name):
    model, cfg = tiny(name, '--G_ema', '0')
    with new_session():
        model.build(cfg, fixed_inputs(np.zeros((cfg['batch_size'], cfg['IMAGE_SIZE'],
                                                cfg['IMAGE_SIZE'], cfg['CHANNELS']),
                                               np.float32), np.zeros(cfg['batch_size'])),
                    phase=model.phases(cfg)[0])
        assert not params.params_with_name(models.AVERAGE + '.')
        assert model.start_averages() is None


def test_the_ramp_caps_the_half_life_at_a_share_of_the_steps():
    """beta_t = min(beta, 0.5 ** (1 / (rampup t))): 0 at step 0, a half-life of rampup * t
    steps while that is shorter than beta's own."""
    with new_session() as session:
        step = tf.placeholder(tf.int64, [])
        beta = params.ramped_beta(.999, .05, step)
        values = [session.run(beta, {step: t}) for t in (0, 20, 200, 100000)]
    np.testing.assert_allclose(values, [0., .5, .5 ** .1, .999], rtol=1e-6)
    assert params.ramped_beta(.999, 0., step) == .999


@pytest.mark.parametrize('flags,message', [
    (['--G_ema', '1'], '--G_ema must be 0 (no average) or a beta in (0, 1), got 1.0'),
    (['--G_ema', '-.5'], '--G_ema must be 0'),
    (['--G_ema_rampup', '-1'], '--G_ema_rampup must be 0 (off) or positive, got -1.0'),
])
def test_bad_averaging_settings_are_named(flags, message):
    with pytest.raises(ConfigError, match=message.replace('(', r'\(').replace(')', r'\)')):
        tiny('transfer_gan', *flags)


def checkpoint_values(run_dir, prefix):
    reader = tf.train.load_checkpoint(checkpoints.resolve(str(run_dir)))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if k.startswith(prefix)}


@pytest.mark.slow
def test_checkpoints_with_and_without_an_average(tmp_path, capsys):
    """A run without an average fine-tunes into one whose average starts at the loaded
    generator; its checkpoint keeps both; gan_eval samples the average, or with --G_ema 0 the
    trained generator, and a checkpoint without an average samples its generator."""
    plain, averaged = tmp_path / 'plain', tmp_path / 'averaged'
    assert gan_train.main(RUN + ['--output_path', str(plain), '--G_ema', '0']) == 0
    assert not checkpoint_values(plain, models.AVERAGE + '.')
    assert gan_train.main(RUN + ['--output_path', str(averaged), '--G_ema', '.5',
                                 '--finetune_from', str(plain), '--ITERS', '1']) == 0
    out = capsys.readouterr().out
    assert 'missing 0' in out  # the averages are started, not missing
    assert 'the generator average starts at the generator of {}, which has none'.format(
        checkpoints.resolve(str(plain))) in out
    loaded = checkpoint_values(plain, models.GENERATOR)
    trained = checkpoint_values(averaged, models.GENERATOR)
    average = checkpoint_values(averaged, models.AVERAGE + '.')
    assert sorted(k.replace(models.AVERAGE, models.GENERATOR) for k in average) == \
        sorted(k for k in trained if 'moving' not in k and 'Adam' not in k)
    for key, value in average.items():  # one step from the loaded weights at beta 0.5
        twin = key.replace(models.AVERAGE, models.GENERATOR)
        np.testing.assert_allclose(value, .5 * loaded[twin] + .5 * trained[twin], rtol=1e-5,
                                   atol=1e-6)

    def sample(run_dir, *flags):
        out_dir = tmp_path / 'samples'
        assert gan_eval.main(['--ckpt', str(run_dir), '--n', '20', '--overwrite', '--output_dir',
                              str(out_dir)] + list(flags)) == 0
        return np.load(str(out_dir / 'images.npz'))['images']

    raw = sample(averaged, '--G_ema', '0')
    assert np.abs(sample(averaged) - raw).max() > 1e-4
    # The plain run's checkpoint read as if it kept an average: its generator samples.
    np.testing.assert_array_equal(sample(plain, '--G_ema', '.9'), sample(plain))
    assert 'no generator average (Gs.*) in it; its generator is used' in \
        capsys.readouterr().out

    # Resuming turns the average on (started at the generator) or off (said).
    before = checkpoints.resolve(str(plain))
    assert gan_train.main(RUN + ['--output_path', str(plain), '--G_ema', '.5',
                                 '--ITERS', '3']) == 0
    out = capsys.readouterr().out
    assert 'the generator average starts at the generator of {}'.format(before) in out
    assert 'freshly initialised' not in out
    assert checkpoint_values(plain, models.AVERAGE + '.')
    before = checkpoints.resolve(str(plain))
    assert gan_train.main(RUN + ['--output_path', str(plain), '--G_ema', '0',
                                 '--ITERS', '4']) == 0
    assert '{}: its generator average (Gs.*) is left behind: this run has --G_ema 0'.format(
        before) in capsys.readouterr().out


def test_moving_statistics_for_an_average_are_warned_about(capsys):
    model, cfg = tiny('transfer_gan', '--G_ema', '.9')
    phase = model.phases(cfg)[-1]
    with new_session():
        generators.generator_graph(model, cfg, phase, 2, bn_mode='moving')
    assert 'warning: --bn_mode moving normalises the generator average' in \
        capsys.readouterr().out
    with new_session():
        generators.generator_graph(model, dict(cfg, G_ema=0.), phase, 2, bn_mode='moving')
        generators.generator_graph(model, cfg, phase, 2, bn_mode='batch')
    assert 'warning' not in capsys.readouterr().out
