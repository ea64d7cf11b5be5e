"""DCGAN (Radford et al., ICLR 2016), seed 003: transposed-convolution generator, strided
convolution discriminator, non-saturating BCE loss, Adam(2e-4, beta1 0.5).

The networks are the DCGAN_G / DCGAN_D of Arjovsky's WassersteinGAN code (models/dcgan.py),
which models/wgan.py shares: G starts at 4x4 with ``ngf * IMAGE_SIZE / 8`` maps and halves them
per doubling; D mirrors it. Seed 003's 32x32 nets (G 512-256-128, D 128-256-512 at
feature_size 64) are these with ngf = ndf = 2 * feature_size, and the 64x64 preset is then the
paper's (G from 1024 maps at 4x4). The 4x4 <-> noise / score layers are dense, which is the
same function as the original's 4x4 valid convolutions. Weights N(0, 0.02), BN scales
N(1, 0.02), no conv biases (seed 003, the DCGAN paper).
"""
import functools

from tflib import layout, losses, params, steps
from tflib.compat import tf
from tflib.config import ConfigError, merged
from tflib.gan import Recipe, critic_feature
from tflib.ops import batchnorm
from tflib.ops.activations import leaky_relu
from tflib.ops.conv2d import Conv2D
from tflib.ops.deconv2d import Deconv2D
from tflib.ops.linear import Linear

DEFAULTS = {
    'IMAGE_SIZE': 32,
    'CHANNELS': 3,
    'Z_DIM': 100,
    'feature_size': 64,
    'LR': 2e-4,
    'BETA1': 0.5,
    'BETA2': 0.999,
    'ITERS': 200000,
    'batch_size': 128,
    'BN_MOMENTUM': 0.9,
    'G_ema': 0.,  # the generator's moving average (models/__init__.py); 0: none
    'G_ema_rampup': 0.,
    'data_format': 'NHWC',
}
ARCHITECTURE = ('IMAGE_SIZE', 'CHANNELS', 'Z_DIM', 'feature_size')
FLAG_ALIASES = {'latent_size': 'Z_DIM', 'image_size': 'IMAGE_SIZE'}

INIT = params.normal(0.02)
BN_SCALE_INIT = params.normal(0.02, mean=1.)


def critic_steps(cfg, step):
    """One discriminator step per generator step."""
    return 1


def check_size(image_size):
    if image_size < 16 or image_size & (image_size - 1):
        raise ConfigError('IMAGE_SIZE must be a power of two of at least 16, got {}'.format(
            image_size))


def config(**overrides):
    cfg = merged('dcgan', DEFAULTS, overrides)
    check_size(cfg['IMAGE_SIZE'])
    layout.check(cfg['data_format'])
    return cfg


def _widths(image_size, base):
    """Feature maps at 4x4, 8x8, ... up to IMAGE_SIZE / 2 (DCGAN_G's cngf doubling rule)."""
    widths, size = [], 4
    while size < image_size:
        widths.append(base * image_size // (2 * size))
        size *= 2
    return widths


def _bn(cfg, name, x, use_bn, **kwargs):
    if not use_bn:
        return x
    return batchnorm.Batchnorm(name, x, momentum=cfg['BN_MOMENTUM'], scale_init=BN_SCALE_INIT,
                               **kwargs)


def conv_generator(cfg, noise, ngf, batchnorm_=True, n_extra_layers=0, is_training=True,
                   update_moving_stats=False):
    """DCGAN_G (and DCGAN_G_nobn): NHWC images in [-1, 1] from noise [n, Z_DIM]."""
    widths = _widths(cfg['IMAGE_SIZE'], ngf)
    bn = functools.partial(_bn, cfg, use_bn=batchnorm_, is_training=is_training,
                           update_moving_stats=update_moving_stats)
    with layout.using(cfg['data_format']):
        x = Linear('Generator.Input', int(noise.shape[1]), 16 * widths[0], noise, biases=False,
                   init=INIT)
        x = tf.nn.relu(bn('Generator.InputN', layout.unflatten_nchw(x, widths[0], 4, 4)))
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            name = 'Generator.Up{}'.format(i + 1)
            x = tf.nn.relu(bn(name + 'N', Deconv2D(name, w_in, w_out, 4, x, biases=False,
                                                   init=INIT)))
        for i in range(n_extra_layers):
            name = 'Generator.Extra{}'.format(i + 1)
            x = tf.nn.relu(bn(name + 'N', Conv2D(name, widths[-1], widths[-1], 3, x,
                                                 biases=False, init=INIT)))
        x = Deconv2D('Generator.Output', widths[-1], cfg['CHANNELS'], 4, x, biases=False,
                     init=INIT)
        return layout.to_nhwc(tf.tanh(x))


def conv_discriminator(cfg, images, ndf, n_extra_layers=0):
    """DCGAN_D: one score (logit) per NHWC image. Batch statistics in its BN, as the
    original's critic always normalises."""
    widths = _widths(cfg['IMAGE_SIZE'], ndf)[::-1]
    with layout.using(cfg['data_format']):
        x = layout.from_nhwc(images)
        x = critic_feature(leaky_relu(Conv2D('Discriminator.Input', cfg['CHANNELS'], widths[0],
                                             4, x, stride=2, biases=False, init=INIT)))
        for i in range(n_extra_layers):
            name = 'Discriminator.Extra{}'.format(i + 1)
            x = critic_feature(leaky_relu(_bn(cfg, name + 'N', Conv2D(
                name, widths[0], widths[0], 3, x, biases=False, init=INIT), True)))
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            name = 'Discriminator.Down{}'.format(i + 1)
            x = critic_feature(leaky_relu(_bn(cfg, name + 'N', Conv2D(
                name, w_in, w_out, 4, x, stride=2, biases=False, init=INIT), True)))
        return tf.reshape(Linear('Discriminator.Output', 16 * widths[-1], 1,
                                 layout.flatten_nchw(x), biases=False, init=INIT), [-1])


def generator(cfg, n_samples, labels=None, noise=None, is_training=True, phase=None,
              update_moving_stats=False):
    """NHWC images in [-1, 1] from N(0, 1) noise [n, Z_DIM] (drawn if not given)."""
    del labels, phase  # unconditional; one phase
    if noise is None:
        noise = tf.random_normal([n_samples, cfg['Z_DIM']])
    return conv_generator(cfg, noise, 2 * cfg['feature_size'], is_training=is_training,
                          update_moving_stats=update_moving_stats)


def discriminator(cfg, images, labels=None, phase=None):
    """(logits [n] of 'real', None)."""
    del labels, phase  # unconditional; one phase
    return conv_discriminator(cfg, images, 2 * cfg['feature_size']), None


def recipe(cfg, phase):
    """One D step on a real batch and a fresh fake batch, then one G step."""
    return bce_recipe(cfg, phase, functools.partial(generator, cfg),
                      functools.partial(discriminator, cfg))


def bce_recipe(cfg, phase, gen, disc, critic_draws=None):
    """The steps of a BCE GAN (DCGAN; CGAN when cfg CONDITIONAL): one D step on a real batch
    and as many generated images (of the real labels), then one G step (of random labels),
    Adam(LR, BETA1, BETA2) for both. The critic is called as ``disc(images, labels)``, or with
    ``critic_draws`` (a Draw per image, e.g. dropout's uniforms) as ``disc(images, labels,
    draws)`` with a fresh draw each time."""
    conditional = cfg.get('CONDITIONAL', False)
    batch = phase.batch_size

    def logits_of(x, labels, draws=None):
        return (disc(x, labels, draws) if critic_draws else disc(x, labels))[0]

    def critic_cost(inputs):
        real, labels = inputs['images'], inputs['labels'] if conditional else None
        real_logits = logits_of(real, labels, inputs.get('real_draws'))
        fake = gen(batch, labels=labels, noise=inputs['noise'])
        fake_logits = logits_of(fake, labels, inputs.get('fake_draws'))
        cost = losses.bce_critic(real_logits, fake_logits)
        return cost, {'loss_d': cost, 'd_real': tf.reduce_mean(tf.sigmoid(real_logits)),
                      'd_fake': tf.reduce_mean(tf.sigmoid(fake_logits))}

    def generator_cost(inputs):
        labels = inputs.get('labels')
        fake = gen(batch, labels=labels, noise=inputs['noise'], update_moving_stats=True)
        return losses.bce_generator(logits_of(fake, labels, inputs.get('fake_draws'))), {}

    def learning_rates(step):
        rate = tf.constant(float(cfg['LR']))
        return rate, rate

    noise = {'noise': steps.normal(batch, cfg['Z_DIM'])}
    critic, generator_draws = dict(noise), dict(noise)
    if conditional:
        generator_draws['labels'] = steps.integers(cfg['N_CLASSES'], batch)
    if critic_draws:
        shaped = steps.Draw(critic_draws.kind, (batch,) + tuple(critic_draws.shape),
                            critic_draws.maxval)
        critic.update(real_draws=shaped, fake_draws=shaped)
        generator_draws['fake_draws'] = shaped
    spec = steps.StepSpec(critic=critic, generator=generator_draws, fused_critic_steps=1,
                          critic_steps=functools.partial(critic_steps, cfg))
    return Recipe(generator=gen, discriminator=lambda images, labels=None: disc(images, labels),
                  spec=spec, learning_rates=learning_rates,
                  optimizer=lambda rate: tf.train.AdamOptimizer(rate, cfg['BETA1'],
                                                                cfg['BETA2']),
                  critic_cost=critic_cost, generator_cost=generator_cost, after_critic=None,
                  after_generator=None)
