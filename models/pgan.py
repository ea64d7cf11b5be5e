"""PGAN: progressive growing of GANs (Karras et al., ICLR 2018), seed 001, after the authors'
TF code (tkarras/progressive_growing_of_gans: networks.py G_paper / D_paper, loss.py, train.py).

Training runs in phases, each with its own static graph: the 4x4 networks, then for every
doubling a fade-in phase, where the new blocks' output is blended in with weight alpha rising
linearly from 0 to 1 over the phase (computed in-graph from the step, so a run resumes
mid-fade), and a stable phase. The real images fade the same way. Equalized learning rate,
pixelwise feature normalisation and the minibatch standard-deviation layer are in
tflib/ops/equalized.py. Loss: WGAN-GP (lambda 10) plus a drift term 0.001 E[D(real)^2]; Adam
(0, 0.99, 1e-8), its state reset at each phase; the generator's moving average (``G_ema``
0.999, kept by models.Model as for every model), ``Gs``, is the generator that samples, scores
and exports.

``DEPTHS[i]`` is the channel depth at resolution 4 * 2^i (tkarras's nf(i + 1); nf(0), the
critic's last dense layer, is DEPTHS[0] too), ``BATCH_SIZES[i]`` the minibatch of that
resolution's phases. Upsampling and downsampling are nearest-neighbour and 2x2 means, not the
authors' fused transposed/strided convolutions, which compute the same function.
"""
import functools

import numpy as np

from tflib import layout, losses, steps
from tflib.compat import tf
from tflib.config import ConfigError, merged
from tflib.gan import Phase, Recipe
from tflib.ops import equalized
from tflib.ops.activations import leaky_relu
from tflib.ops.resample import mean_pool, upsample

DEFAULTS = {
    'IMAGE_SIZE': 128,
    'CHANNELS': 3,
    'Z_DIM': 512,
    'DEPTHS': [512, 512, 512, 512, 256, 128],
    'BATCH_SIZES': [128, 128, 128, 64, 32, 16],
    'batch_size': 0,  # > 0: this minibatch at every resolution instead (the MindSpore seed: 16)
    'STABLE_IMAGES': 600000,
    'FADE_IMAGES': 600000,
    'ITERS': 0,  # 0: the schedule's end; otherwise the run stops (or goes on at the top) here
    'LR': 1e-3,
    'BETA1': 0.,
    'BETA2': .99,
    'EPSILON': 1e-8,
    'LAMBDA': 10.,
    'DRIFT': 1e-3,
    'G_ema': .999,  # Gs, the paper's generator average (models/__init__.py)
    'G_ema_rampup': 0.,
    'MBSTD_GROUP': 4,
    'MIRROR_AUGMENT': False,
    'data_format': 'NHWC',
}
ARCHITECTURE = ('IMAGE_SIZE', 'CHANNELS', 'Z_DIM', 'DEPTHS', 'MBSTD_GROUP')
FLAG_ALIASES = {'EMA_BETA': 'G_ema'}  # the name of earlier versions


def config(**overrides):
    cfg = merged('pgan', DEFAULTS, overrides)
    size, levels = cfg['IMAGE_SIZE'], len(cfg['DEPTHS'])
    if size < 4 or size & (size - 1):
        raise ConfigError('pgan IMAGE_SIZE must be a power of two from 4, got {}'.format(size))
    if levels != int(np.log2(size)) - 1:
        raise ConfigError('pgan DEPTHS needs one depth per resolution 4..{} ({}), got {}'.format(
            size, int(np.log2(size)) - 1, levels))
    if len(cfg['BATCH_SIZES']) != levels:
        raise ConfigError('pgan BATCH_SIZES needs one minibatch per resolution 4..{} ({}), got '
                          '{}'.format(size, levels, len(cfg['BATCH_SIZES'])))
    if cfg['batch_size'] < 0:
        raise ConfigError('pgan batch_size must be positive (or 0: BATCH_SIZES)')
    for batch in _batch_sizes(cfg):
        if batch < 1 or (batch > cfg['MBSTD_GROUP'] and batch % cfg['MBSTD_GROUP']):
            raise ConfigError('pgan minibatch {} is not a multiple of MBSTD_GROUP {}'.format(
                batch, cfg['MBSTD_GROUP']))
    if min(cfg['STABLE_IMAGES'], cfg['FADE_IMAGES']) < 1:
        raise ConfigError('pgan STABLE_IMAGES and FADE_IMAGES must be positive')
    layout.check(cfg['data_format'])
    if not cfg['ITERS']:
        cfg['ITERS'] = phases(cfg)[-1].end
    return cfg


def _batch_sizes(cfg):
    return [cfg['batch_size']] * len(cfg['DEPTHS']) if cfg['batch_size'] else cfg['BATCH_SIZES']


def phases(cfg):
    """4x4 stable, then (fade-in, stable) per doubling, each phase the images it is given in
    minibatches of its resolution; ITERS cuts the schedule short or extends its last phase.
    A phase's settings: its RESOLUTION, whether it FADEs in, and its scheduled PHASE_STEPS
    (over which alpha rises)."""
    schedule, start = [], 0
    for level, batch in enumerate(_batch_sizes(cfg)):
        res = 4 << level
        for fade in ([True, False] if level else [False]):
            steps = -(-cfg['FADE_IMAGES' if fade else 'STABLE_IMAGES'] // batch)
            settings = {'RESOLUTION': res, 'FADE': fade, 'PHASE_STEPS': steps}
            name = '{0}x{0} {1}'.format(res, 'fade-in' if fade else 'stable')
            schedule.append(Phase(start, start + steps, settings, name, batch))
            start += steps
    if cfg['ITERS']:
        schedule = [p for p in schedule if p.start < cfg['ITERS']]
        schedule[-1] = schedule[-1]._replace(end=cfg['ITERS'])
    return schedule


def _or_last(cfg, phase):
    """``phase``, or the model's last phase when None."""
    return phase or phases(cfg)[-1]


def critic_steps(cfg, step):
    del cfg, step
    return 1


def fade_alpha(phase):
    """The new blocks' weight: 0 -> 1 over a fade-in phase, from the global step; None when
    the phase is stable."""
    if not phase.settings['FADE']:
        return None
    done = tf.cast(tf.train.get_or_create_global_step(), tf.float32) - phase.start
    return tf.clip_by_value(done / phase.settings['PHASE_STEPS'], 0., 1.)


def _lerp(low, new, alpha):
    return new if alpha is None else low + (new - low) * alpha


def _level(resolution):
    return int(np.log2(resolution)) - 2


def _act(x):
    return leaky_relu(x, 0.2)


def synthesis(cfg, resolution, noise, alpha):
    """G_paper: NHWC images at ``resolution`` from latents [n, Z_DIM]; linear output
    (the data range is [-1, 1])."""
    with layout.using(cfg['data_format']):
        return _synthesis(cfg, resolution, noise, alpha, 'Generator')


def _synthesis(cfg, resolution, noise, alpha, prefix):
    depths = cfg['DEPTHS']

    def name(res, layer):
        return '{0}.{1}x{1}.{2}'.format(prefix, res, layer)

    def to_rgb(level, x):
        return equalized.conv2d('{}.ToRGB_{}x{}'.format(prefix, 4 << level, 4 << level), x,
                                cfg['CHANNELS'], 1, gain=1.)

    x = equalized.pixel_norm(noise)
    x = equalized.dense(name(4, 'Dense'), x, depths[0] * 16, gain=equalized.HE_GAIN / 4)
    x = equalized.pixel_norm(_act(layout.unflatten_nchw(x, depths[0], 4, 4)))
    x = equalized.pixel_norm(_act(equalized.conv2d(name(4, 'Conv'), x, depths[0], 3)))
    top, low = _level(resolution), None
    for level in range(1, top + 1):
        if level == top and alpha is not None:
            low = upsample(to_rgb(level - 1, x))
        res = 4 << level
        x = upsample(x)
        x = equalized.pixel_norm(_act(equalized.conv2d(name(res, 'Conv0_up'), x, depths[level],
                                                       3)))
        x = equalized.pixel_norm(_act(equalized.conv2d(name(res, 'Conv1'), x, depths[level], 3)))
    return layout.to_nhwc(_lerp(low, to_rgb(top, x), alpha))


def generator(cfg, n_samples, labels=None, noise=None, is_training=True, phase=None):
    """G: NHWC images at the phase's resolution (models.Model reads its average, Gs)."""
    del labels, is_training  # unconditional; no batch statistics
    phase = _or_last(cfg, phase)
    if noise is None:
        noise = tf.random_normal([n_samples, cfg['Z_DIM']])
    return synthesis(cfg, phase.settings['RESOLUTION'], noise, fade_alpha(phase))


def critic(cfg, resolution, images, alpha):
    """D_paper: a score per NHWC image at ``resolution``."""
    with layout.using(cfg['data_format']):
        return _critic(cfg, resolution, images, alpha)


def _critic(cfg, resolution, images, alpha):
    depths = cfg['DEPTHS']

    def from_rgb(level, x):
        res = 4 << level
        return _act(equalized.conv2d('Discriminator.FromRGB_{0}x{0}'.format(res), x,
                                     depths[level], 1))

    images = layout.from_nhwc(images)
    top = _level(resolution)
    x = from_rgb(top, images)
    for level in range(top, 0, -1):
        res = 4 << level
        name = 'Discriminator.{0}x{0}.'.format(res)
        x = _act(equalized.conv2d(name + 'Conv0', x, depths[level], 3))
        x = _act(mean_pool(equalized.conv2d(name + 'Conv1_down', x, depths[level - 1], 3)))
        if level == top and alpha is not None:
            x = _lerp(from_rgb(level - 1, mean_pool(images)), x, alpha)
    if cfg['MBSTD_GROUP'] > 1:
        x = equalized.minibatch_stddev(x, cfg['MBSTD_GROUP'])
    x = _act(equalized.conv2d('Discriminator.4x4.Conv', x, depths[0], 3))
    x = _act(equalized.dense('Discriminator.4x4.Dense0', x, depths[0]))
    return equalized.dense('Discriminator.4x4.Dense1', x, 1, gain=1.)[:, 0]


def discriminator(cfg, images, labels=None, phase=None):
    """(critic scores [n], None) of NHWC images at the phase's resolution."""
    del labels  # unconditional
    phase = _or_last(cfg, phase)
    return critic(cfg, phase.settings['RESOLUTION'], images, fade_alpha(phase)), None


def real_images(resolution, images, alpha, flips=None):
    """Training images at IMAGE_SIZE brought to the phase: 2x2-mean downsampled to its
    resolution, in a fade-in blended from the upsampled half resolution like the generator's
    output (tkarras's process_reals), and mirrored where ``flips`` (per sample, 0 or 1)."""
    with layout.using('NHWC'):
        while int(images.shape[1]) > resolution:
            images = mean_pool(images)
        if alpha is not None:
            images = _lerp(upsample(mean_pool(images)), images, alpha)
    if flips is not None:
        flips = flips[:, None, None, None]
        images = images + flips * (tf.reverse(images, [2]) - images)
    return images


def recipe(cfg, phase):
    """One phase's steps: a critic step (WGAN-GP + drift) and a generator step."""
    batch, z_dim, resolution = phase.batch_size, cfg['Z_DIM'], phase.settings['RESOLUTION']
    alpha = fade_alpha(phase)
    disc = functools.partial(critic, cfg, resolution, alpha=alpha)

    def critic_cost(inputs):
        flips = None
        if cfg['MIRROR_AUGMENT']:
            flips = tf.cast(inputs['flip'] < .5, tf.float32)
        real = real_images(resolution, inputs['images'], alpha, flips)
        fake = synthesis(cfg, resolution, inputs['noise'], alpha)
        real_scores, fake_scores = disc(real), disc(fake)
        wasserstein = losses.wasserstein_critic(real_scores, fake_scores)
        penalty = losses.gradient_penalty(disc, real, fake, inputs['mix'])
        drift = losses.drift(real_scores)
        cost = wasserstein + cfg['LAMBDA'] * penalty + cfg['DRIFT'] * drift
        metrics = {'loss_d': cost, 'wasserstein': -wasserstein, 'gradient_penalty': penalty,
                   'drift': drift}
        return cost, dict(metrics, **({} if alpha is None else {'alpha': alpha}))

    def generator_cost(inputs):
        scores = disc(synthesis(cfg, resolution, inputs['noise'], alpha))
        return losses.wasserstein_generator(scores), {}

    def learning_rates(step):
        rate = tf.constant(float(cfg['LR']))
        return rate, rate

    critic_draws = {'noise': steps.normal(batch, z_dim), 'mix': steps.uniform(batch, 1, 1, 1)}
    if cfg['MIRROR_AUGMENT']:
        critic_draws['flip'] = steps.uniform(batch)
    spec = steps.StepSpec(critic=critic_draws, generator={'noise': steps.normal(batch, z_dim)},
                          fused_critic_steps=1, critic_steps=functools.partial(critic_steps, cfg))
    return Recipe(generator=functools.partial(generator, cfg, phase=phase),
                  discriminator=functools.partial(discriminator, cfg, phase=phase), spec=spec,
                  learning_rates=learning_rates,
                  optimizer=lambda rate: tf.train.AdamOptimizer(rate, cfg['BETA1'], cfg['BETA2'],
                                                                cfg['EPSILON']),
                  critic_cost=critic_cost, generator_cost=generator_cost, after_critic=None,
                  after_generator=None)
