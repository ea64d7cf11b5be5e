"""WGAN (Arjovsky et al., ICML 2017), seed 000: the DCGAN networks of models/dcgan.py as
generator (with BatchNorm or, with ``noBN``, without) and critic (always with BatchNorm, as the
original's main.py uses it), weight clipping to [clamp_lower, clamp_upper] after every critic
step, RMSProp, Diters critic steps per generator step with the original's warm-up (100 critic
steps for the first 25 generator iterations and every 500th). -loss_D estimates the
Wasserstein distance. Settings keep the seed's names (--batchSize --imageSize --nz --ngf ...).
"""
import functools
import math

from models import dcgan
from tflib import layout, losses, params, steps
from tflib.compat import tf
from tflib.config import ConfigError, merged
from tflib.gan import Recipe

DEFAULTS = {
    'IMAGE_SIZE': 64,
    'CHANNELS': 3,
    'Z_DIM': 100,
    'ngf': 64,
    'ndf': 64,
    'n_extra_layers': 0,
    'noBN': False,
    'lrD': 5e-5,
    'lrG': 5e-5,
    'clamp_lower': -0.01,
    'clamp_upper': 0.01,
    'Diters': 5,
    'warmup_Diters': 100,
    'warmup_g_iters': 25,
    'warmup_every': 500,
    'adam': False,
    'beta1': 0.5,
    'ITERS': 200000,
    'batch_size': 64,
    'BN_MOMENTUM': 0.9,
    'G_ema': 0.,  # the generator's moving average (models/__init__.py); 0: none
    'G_ema_rampup': 0.,
    'data_format': 'NHWC',
}
ARCHITECTURE = ('IMAGE_SIZE', 'CHANNELS', 'Z_DIM', 'ngf', 'ndf', 'n_extra_layers', 'noBN')
LEARNING_RATES = ('lrD', 'lrG')
FLAG_ALIASES = {'batchSize': 'batch_size', 'imageSize': 'IMAGE_SIZE', 'nz': 'Z_DIM',
                'nc': 'CHANNELS', 'niter': 'EPOCHS'}


def config(**overrides):
    cfg = merged('wgan', DEFAULTS, overrides)
    dcgan.check_size(cfg['IMAGE_SIZE'])
    if not cfg['clamp_lower'] < cfg['clamp_upper']:
        raise ConfigError('clamp_lower must be below clamp_upper, got {} and {}'.format(
            cfg['clamp_lower'], cfg['clamp_upper']))
    for key in ('Diters', 'warmup_Diters', 'warmup_every'):
        if cfg[key] < 1:
            raise ConfigError('{} must be at least 1, got {}'.format(key, cfg[key]))
    layout.check(cfg['data_format'])
    return cfg


def critic_steps(cfg, step):
    """Diters, or warmup_Diters for the first warmup_g_iters generator steps and every
    warmup_every-th (main.py of the original; the paper omits it)."""
    if step < cfg['warmup_g_iters'] or step % cfg['warmup_every'] == 0:
        return cfg['warmup_Diters']
    return cfg['Diters']


def generator(cfg, n_samples, labels=None, noise=None, is_training=True, phase=None,
              update_moving_stats=False):
    """NHWC images in [-1, 1] from N(0, 1) noise [n, Z_DIM] (drawn if not given)."""
    del labels, phase  # unconditional; one phase
    if noise is None:
        noise = tf.random_normal([n_samples, cfg['Z_DIM']])
    return dcgan.conv_generator(cfg, noise, cfg['ngf'], not cfg['noBN'], cfg['n_extra_layers'],
                                is_training, update_moving_stats)


def discriminator(cfg, images, labels=None, phase=None):
    """(critic scores [n], None)."""
    del labels, phase  # unconditional; one phase
    return dcgan.conv_discriminator(cfg, images, cfg['ndf'], cfg['n_extra_layers']), None


class RMSProp(tf.train.RMSPropOptimizer):
    """RMSProp with its mean square starting at 0, as PyTorch's (the original's) does; TF's
    starts at 1, which shrinks the first few hundred steps at lr 5e-5 to almost nothing."""

    def _create_slots(self, var_list):
        for var in var_list:
            self._zeros_slot(var, 'rms', self._name)
            self._zeros_slot(var, 'momentum', self._name)


def optimizer(cfg, lr):
    if cfg['adam']:
        return tf.train.AdamOptimizer(lr, cfg['beta1'], 0.999)
    return RMSProp(lr, decay=0.99, epsilon=1e-8)


def clip(variables, lower, upper):
    """The critic's weight clipping: every critic parameter into [lower, upper]."""
    return tf.group(*[tf.assign(v, tf.clip_by_value(v, lower, upper)) for v in variables])


def recipe(cfg, phase):
    """Critic steps (each followed by clipping) on real batches, and a generator step. A pipeline
    element holds the greatest common divisor of Diters and warmup_Diters critic steps, so a
    warm-up iteration takes several elements."""
    gen = functools.partial(generator, cfg)
    disc = functools.partial(discriminator, cfg)
    batch = phase.batch_size

    def critic_cost(inputs):
        real_scores = disc(inputs['images'])[0]
        fake_scores = disc(gen(batch, noise=inputs['noise']))[0]
        cost = losses.wasserstein_critic(real_scores, fake_scores)
        return cost, {'loss_d': cost, 'wasserstein': -cost}

    def generator_cost(inputs):
        scores = disc(gen(batch, noise=inputs['noise'], update_moving_stats=True))[0]
        return losses.wasserstein_generator(scores), {}

    noise = {'noise': steps.normal(batch, cfg['Z_DIM'])}
    spec = steps.StepSpec(critic=noise, generator=noise, critic_steps=functools.partial(
        critic_steps, cfg), fused_critic_steps=math.gcd(cfg['Diters'], cfg['warmup_Diters']))
    return Recipe(generator=gen, discriminator=disc, spec=spec,
                  learning_rates=lambda step: (tf.constant(float(cfg['lrD'])),
                                               tf.constant(float(cfg['lrG']))),
                  optimizer=functools.partial(optimizer, cfg), critic_cost=critic_cost,
                  generator_cost=generator_cost, after_critic=lambda: clip(
                      params.params_with_name('Discriminator.', trainable_only=True),
                      cfg['clamp_lower'], cfg['clamp_upper']), after_generator=None)
