"""Transferring-GAN (Wang et al., ECCV 2018): WGAN-GP ResNets, unconditional or AC-GAN.

Two families, with the authors' layer names so their checkpoints load as they are:
- ``cifar_resnet``: gan_cifar_resnet.py of improved_wgan_training (32x32, DIM_G = DIM_D = 128),
  the network of the Ascend port;
- ``good_resnet``: GoodGenerator / GoodDiscriminator of transfer_gan.py (64x64, DIM = 64), the
  network of the released pretrained models.
Images enter and leave the networks as NHWC in [-1, 1]; the original's flat NCHW vectors are
``images.transpose(0, 3, 1, 2).reshape(n, -1)``.
"""
import functools

from tflib import augment, layout, losses, steps
from tflib.compat import tf
from tflib.config import ConfigError, merged
from tflib.gan import Recipe, critic_feature
from tflib.ops import batchnorm, cond_batchnorm, layernorm
from tflib.ops.activations import relu
from tflib.ops.conv2d import Conv2D
from tflib.ops.linear import Linear
from tflib.ops.resample import ConvMeanPool, MeanPoolConv, UpsampleConv

ARCHS = ('cifar_resnet', 'good_resnet')

DEFAULTS = {
    'ARCH': 'cifar_resnet',
    'IMAGE_SIZE': 32,
    'CHANNELS': 3,
    'N_CLASSES': 10,
    'Z_DIM': 128,
    'DIM_G': 128,
    'DIM_D': 128,
    'NORMALIZATION_G': True,
    'NORMALIZATION_D': False,
    'CONDITIONAL': True,
    'ACGAN': True,
    'ACGAN_SCALE': 1.,
    'ACGAN_SCALE_G': 0.1,
    'LAMBDA': 10.,
    'LR': 2e-4,
    'DECAY': True,
    'ITERS': 100000,
    'BETA1': 0.,
    'BETA2': 0.9,
    'batch_size': 64,
    'GEN_BS_MULTIPLE': 2,
    'N_CRITIC': 5,
    'BN_MOMENTUM': 0.9,
    'G_ema': 0.,  # the generator's moving average (models/__init__.py); 0: none
    'G_ema_rampup': 0.,
    'data_format': 'NHWC',
    'diffaug': '',        # DiffAugment's policies for the critic's inputs: color,translation,cutout
    'diffaug_fill': 0.,   # what pixels shifted in and cut out become (by default the data's
                          # background: zoo/data.py)
    'ada_target': 0.,     # > 0: each transform applies with a probability p steered to keep the
                          # critic's overfitting ratio on --holdout images here (0: always)
    'ada_kimg': 100.,     # thousands of real images over which p can go from 0 to 1
}

# Settings that shape the variables or the networks' function: a run resumes only with these.
ARCHITECTURE = ('ARCH', 'IMAGE_SIZE', 'CHANNELS', 'N_CLASSES', 'Z_DIM', 'DIM_G', 'DIM_D',
                'NORMALIZATION_G', 'NORMALIZATION_D', 'CONDITIONAL', 'ACGAN')

# transfer_gan.py's DIM: one width for both networks.
FLAG_ALIASES = {'DIM': ('DIM_G', 'DIM_D')}

# How the two families' residual blocks differ (reference transfer_gan.md §1.4).
_FLAVOURS = {
    'cifar_resnet': {'norms': ('.N1', '.N2'), 'conv1_biases': True,
                     'down_shortcut': ConvMeanPool, 'upsamplings': 3},
    'good_resnet': {'norms': ('.BN1', '.BN2'), 'conv1_biases': False,
                    'down_shortcut': MeanPoolConv, 'upsamplings': 4},
}


def config(**overrides):
    """DEFAULTS with ``overrides``, checked; raises ConfigError naming the offending key."""
    cfg = merged('transfer_gan', DEFAULTS, overrides)
    if cfg['ARCH'] not in ARCHS:
        raise ConfigError('ARCH must be one of {}, got {!r}'.format(ARCHS, cfg['ARCH']))
    factor = 2 ** _FLAVOURS[cfg['ARCH']]['upsamplings']
    if cfg['IMAGE_SIZE'] % factor or cfg['IMAGE_SIZE'] < factor:
        raise ConfigError('IMAGE_SIZE must be a multiple of {} for ARCH {}, got {}'.format(
            factor, cfg['ARCH'], cfg['IMAGE_SIZE']))
    if cfg['ACGAN'] and not cfg['CONDITIONAL']:
        raise ConfigError('ACGAN needs CONDITIONAL: the generator must see the labels it is '
                         'scored on')
    layout.check(cfg['data_format'])
    augment.parse(cfg['diffaug'])
    if cfg['ada_target'] and not cfg['diffaug']:
        raise ConfigError('ada_target steers the strength of diffaug: name its policies too '
                          '(e.g. --diffaug color,translation,cutout)')
    if not 0. <= cfg['ada_target'] < 1. or cfg['ada_kimg'] <= 0.:
        raise ConfigError('ada_target must be in [0, 1) and ada_kimg above 0, got {} and {}'
                          .format(cfg['ada_target'], cfg['ada_kimg']))
    return cfg


def critic_steps(cfg, step):
    return cfg['N_CRITIC']


def _normalizer(cfg, labels, is_training, update_moving_stats):
    """The original's Normalize(): LayerNorm in the critic, (conditional) BatchNorm in G."""
    def normalize(name, x, labels=labels):
        if name.startswith('Discriminator'):
            return layernorm.Layernorm(name, x) if cfg['NORMALIZATION_D'] else x
        if not cfg['NORMALIZATION_G']:
            return x
        if labels is not None:
            return cond_batchnorm.Batchnorm(name, x, labels, cfg['N_CLASSES'])
        return batchnorm.Batchnorm(name, x, is_training, update_moving_stats,
                                   cfg['BN_MOMENTUM'])
    return normalize


def _residual_block(flavour, normalize, name, input_dim, output_dim, x, resample=None):
    if resample == 'down':
        shortcut_conv = flavour['down_shortcut']
        conv_1 = functools.partial(Conv2D, input_dim=input_dim, output_dim=input_dim)
        conv_2 = functools.partial(ConvMeanPool, input_dim=input_dim, output_dim=output_dim)
    elif resample == 'up':
        shortcut_conv = UpsampleConv
        conv_1 = functools.partial(UpsampleConv, input_dim=input_dim, output_dim=output_dim)
        conv_2 = functools.partial(Conv2D, input_dim=output_dim, output_dim=output_dim)
    else:
        shortcut_conv = Conv2D
        conv_1 = functools.partial(Conv2D, input_dim=input_dim, output_dim=output_dim)
        conv_2 = functools.partial(Conv2D, input_dim=output_dim, output_dim=output_dim)
    if input_dim == output_dim and resample is None:
        shortcut = x
    else:
        shortcut = shortcut_conv(name + '.Shortcut', input_dim, output_dim, 1, x, he_init=False)
    norm_1, norm_2 = flavour['norms']
    y = relu(normalize(name + norm_1, x))
    y = conv_1(name=name + '.Conv1', filter_size=3, inputs=y, biases=flavour['conv1_biases'])
    y = relu(normalize(name + norm_2, y))
    y = conv_2(name=name + '.Conv2', filter_size=3, inputs=y)
    return shortcut + y


def generator(cfg, n_samples, labels=None, noise=None, is_training=True, phase=None,
              update_moving_stats=False):
    """Images [n, H, W, C] in [-1, 1] from N(0, 1) noise [n, Z_DIM] (drawn if not given) and,
    when CONDITIONAL, int32 labels [n]. BatchNorm uses batch statistics unless
    ``is_training`` is False (then the moving statistics, which ``update_moving_stats`` keeps)."""
    del phase  # one phase
    if cfg['CONDITIONAL'] and labels is None:
        raise ValueError('a CONDITIONAL generator needs labels')
    if noise is None:
        noise = tf.random_normal([n_samples, cfg['Z_DIM']])
    labels = labels if cfg['CONDITIONAL'] else None
    flavour = _FLAVOURS[cfg['ARCH']]
    normalize = _normalizer(cfg, labels, is_training, update_moving_stats)
    block = functools.partial(_residual_block, flavour, normalize, resample='up')
    with layout.using(cfg['data_format']):
        if cfg['ARCH'] == 'cifar_resnet':
            dims = [cfg['DIM_G']] * 4
            names = ['Generator.1', 'Generator.2', 'Generator.3']
            output_labels, output_he_init = None, False
        else:
            dims = [8 * cfg['DIM_G'], 8 * cfg['DIM_G'], 4 * cfg['DIM_G'], 2 * cfg['DIM_G'],
                    cfg['DIM_G']]
            names = ['Generator.Res1', 'Generator.Res2', 'Generator.Res3', 'Generator.Res4']
            output_labels, output_he_init = labels, True
        size = cfg['IMAGE_SIZE'] // 2 ** len(names)
        x = Linear('Generator.Input', cfg['Z_DIM'], size * size * dims[0], noise)
        x = layout.unflatten_nchw(x, dims[0], size, size)
        for name, input_dim, output_dim in zip(names, dims, dims[1:]):
            x = block(name=name, input_dim=input_dim, output_dim=output_dim, x=x)
        x = relu(normalize('Generator.OutputN', x, labels=output_labels))
        x = Conv2D('Generator.Output', dims[-1], cfg['CHANNELS'], 3, x, he_init=output_he_init)
        return layout.to_nhwc(tf.tanh(x))


def discriminator(cfg, images, labels=None, phase=None):
    """Critic scores [n] and, with ACGAN, class logits [n, N_CLASSES] (else None) of NHWC
    images in [-1, 1]; the labels are not an input (AC-GAN predicts them)."""
    del labels, phase  # one phase
    flavour = _FLAVOURS[cfg['ARCH']]
    normalize = _normalizer(cfg, None, True, False)
    block = functools.partial(_residual_block, flavour, normalize)
    dim = cfg['DIM_D']
    with layout.using(cfg['data_format']):
        x = layout.from_nhwc(images)
        if cfg['ARCH'] == 'cifar_resnet':
            # OptimizedResBlockDisc1: the first block has no normalisation and no leading relu.
            shortcut = MeanPoolConv('Discriminator.1.Shortcut', cfg['CHANNELS'], dim, 1, x,
                                    he_init=False)
            y = relu(Conv2D('Discriminator.1.Conv1', cfg['CHANNELS'], dim, 3, x))
            x = critic_feature(shortcut + ConvMeanPool('Discriminator.1.Conv2', dim, dim, 3, y))
            x = critic_feature(block('Discriminator.2', dim, dim, x, resample='down'))
            x = critic_feature(block('Discriminator.3', dim, dim, x))
            x = critic_feature(block('Discriminator.4', dim, dim, x))
            features = tf.reduce_mean(relu(x), axis=layout.spatial_axes())
        else:
            x = Conv2D('Discriminator.Input', cfg['CHANNELS'], dim, 3, x, he_init=False)
            dims = [dim, 2 * dim, 4 * dim, 8 * dim, 8 * dim]
            for i, (input_dim, output_dim) in enumerate(zip(dims, dims[1:])):
                x = critic_feature(block('Discriminator.Res{}'.format(i + 1), input_dim,
                                         output_dim, x, resample='down'))
            features = layout.flatten_nchw(x)
        n_features = int(features.shape[1])
        scores = tf.reshape(Linear('Discriminator.Output', n_features, 1, features), [-1])
        logits = None
        if cfg['ACGAN']:
            logits = Linear('Discriminator.ACGANOutput', n_features, cfg['N_CLASSES'], features)
        return scores, logits


def learning_rate(cfg, step):
    """LR, decayed linearly to 0 at ITERS when DECAY (gan_cifar_resnet.py)."""
    if not cfg['DECAY']:
        return tf.constant(float(cfg['LR']))
    progress = tf.cast(step, tf.float32) / float(cfg['ITERS'])
    return cfg['LR'] * tf.maximum(0., 1. - progress)


def recipe(cfg, phase):
    """The WGAN-GP (+ AC-GAN) steps of gan_cifar_resnet.py: N_CRITIC critic steps, each on a
    batch of real NHWC images and labels, and a generator step on GEN_BS_MULTIPLE times as many
    samples; Adam for both at the decaying learning rate."""
    gen = functools.partial(generator, cfg)
    disc = functools.partial(discriminator, cfg)
    batch = phase.batch_size
    n_gen = batch * cfg['GEN_BS_MULTIPLE']
    adaptive = bool(cfg['ada_target'])
    held = batch if adaptive else 0  # held-out reals per critic step
    strength = augment.strength() if adaptive else None

    def augmented(images, inputs, p=None):
        if not cfg['diffaug']:
            return images
        return augment.apply(images, cfg['diffaug'], inputs, 'aug_', cfg['diffaug_fill'], p)

    def read():  # p as this step finds it: the read is ordered after the last step's update
        return strength.read_value() if adaptive else None

    def critic_cost(inputs):
        real = inputs['images']
        labels = inputs['labels'] if cfg['CONDITIONAL'] else None
        fake = gen(batch, labels=labels, noise=inputs['noise'])
        images = tf.concat([real, fake] + ([inputs['holdout']] if adaptive else []), axis=0)
        p = read()
        if cfg['diffaug']:  # each image its own draw; the penalty between what the critic saw
            images = augmented(images, inputs, p)
            real, fake = images[:batch], images[batch:2 * batch]
        scores, logits = disc(images)
        disc_wgan = losses.wasserstein_critic(scores[:batch], scores[batch:2 * batch])
        penalty = losses.gradient_penalty(lambda x: disc(x)[0], real, fake,
                                          inputs['mix'])
        cost = disc_wgan + cfg['LAMBDA'] * penalty
        metrics = {'wasserstein': -disc_wgan, 'gradient_penalty': penalty}
        if adaptive:  # the held-out reals are scored, not trained on
            parts = scores[:batch], scores[2 * batch:], scores[batch:2 * batch]
            steered = augment.steer(strength, p, *parts, target=cfg['ada_target'],
                                    step=batch / (1000. * cfg['ada_kimg']))
            tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, steered)
            metrics['augment_p'] = tf.identity(steered)  # after this step
            metrics['overfit_ratio'] = augment.overfitting_ratio(*parts)
        if cfg['ACGAN']:
            acgan, metrics['acgan_acc_real'] = losses.classification(logits[:batch], labels)
            _, metrics['acgan_acc_fake'] = losses.classification(logits[batch:2 * batch],
                                                                labels)
            cost += cfg['ACGAN_SCALE'] * acgan
            metrics['acgan_d'] = acgan
        metrics['loss_d'] = cost
        return cost, metrics

    def generator_cost(inputs):
        labels = inputs.get('labels')
        scores, logits = disc(augmented(gen(n_gen, labels=labels, noise=inputs['noise'],
                                            update_moving_stats=True), inputs, read()))
        loss, metrics = losses.wasserstein_generator(scores), {}
        if cfg['ACGAN']:
            metrics['acgan_g'], _ = losses.classification(logits, labels)
            loss += cfg['ACGAN_SCALE_G'] * metrics['acgan_g']
        return loss, metrics

    def learning_rates(step):
        rate = learning_rate(cfg, step)
        return rate, rate

    size = cfg['IMAGE_SIZE']
    spec = steps.StepSpec(
        critic=dict({'noise': steps.normal(batch, cfg['Z_DIM']),
                     'mix': steps.uniform(batch, 1, 1, 1)},
                    **augment.draws(cfg['diffaug'], 2 * batch + held, size, 'aug_', adaptive)),
        generator=dict({'noise': steps.normal(n_gen, cfg['Z_DIM'])}, **dict(
            {'labels': steps.integers(cfg['N_CLASSES'], n_gen)} if cfg['CONDITIONAL'] else {},
            **augment.draws(cfg['diffaug'], n_gen, size, 'aug_', adaptive))),
        fused_critic_steps=cfg['N_CRITIC'], critic_steps=functools.partial(critic_steps, cfg),
        holdout=held)
    return Recipe(generator=gen, discriminator=disc, spec=spec, learning_rates=learning_rates,
                  optimizer=lambda rate: tf.train.AdamOptimizer(rate, cfg['BETA1'],
                                                                cfg['BETA2']),
                  critic_cost=critic_cost, generator_cost=generator_cost, after_critic=None,
                  after_generator=None)
