"""Conditional GAN (Mirza & Osindero 2014), seed 004, on MNIST.

``ARCH mlp`` is the paper's network: G maps z (200 ReLU) and the one-hot label (1000 ReLU)
through a joint 1200 ReLU layer to 784 sigmoid pixels; D is maxout (x: 240 units x 5 pieces,
y: 50 x 5, joint 240 x 4) with dropout 0.5 (0.2 on its input pixels, as the GAN paper's MNIST
critic), then a sigmoid. The paper's z ~ U[0, 1]^100 is
N(0, 1) noise through the normal CDF, so every model shares the N(0, 1) interface. ``ARCH conv``
is the seed's 32x32 model (MindSpore research/cv/CGAN): label embeddings, transposed
convolutions with GroupNorm(1) (= our Layernorm), sigmoid output. Sigmoid pixels in [0, 1] are
rescaled to the project's [-1, 1]. Loss: BCE (tflib/losses.py) in models/dcgan.py's step;
Adam(2e-4, beta1 0.5) as the seed trains (the paper used SGD with momentum and a hand-tuned
decay).
"""
import functools

import numpy as np

from models import dcgan
from tflib import layout, params, steps
from tflib.compat import tf
from tflib.config import ConfigError, merged
from tflib.ops import embedding, layernorm
from tflib.ops.activations import leaky_relu
from tflib.ops.conv2d import Conv2D
from tflib.ops.deconv2d import Deconv2D
from tflib.ops.linear import Linear

ARCHS = ('mlp', 'conv')
DEFAULTS = {
    'ARCH': 'mlp',
    'IMAGE_SIZE': 28,
    'CHANNELS': 1,
    'Z_DIM': 100,
    'N_CLASSES': 10,
    'CONDITIONAL': True,
    'DROPOUT': 0.5,          # the critic's hidden units (mlp)
    'INPUT_DROPOUT': 0.2,    # the critic's input pixels (mlp)
    'LR': 2e-4,
    'BETA1': 0.5,
    'BETA2': 0.999,
    'ITERS': 30000,
    'batch_size': 100,
    'G_ema': 0.,  # the generator's moving average (models/__init__.py); 0: none
    'G_ema_rampup': 0.,
    'data_format': 'NHWC',
}
ARCHITECTURE = ('ARCH', 'IMAGE_SIZE', 'CHANNELS', 'Z_DIM', 'N_CLASSES')
CRITIC_SEES_LABELS = True
# The MLP's initial weights, uniform in +-0.05 (G) and +-0.005 (D), as goodfeli/adversarial's
# mnist.yaml, the GAN paper's MNIST model that the CGAN paper builds on: with the default
# Glorot ranges the MLP collapsed to one image for every label within 1,000 steps.
MLP_G_INIT = params.uniform(.05 / 3 ** .5)
MLP_D_INIT = params.uniform(.005 / 3 ** .5)
# The label vectors. The generator's start at N(0, 0.01), MindSpore nn.Embedding's default
# (the seed's), so its first layer is the noise's until labels are learned; the critic's label
# map at N(0, 1), so the image-label pairing is judged from the first step. Measured on the
# built-in digits at step 1,000: both at N(0, 1) collapsed every class to one image (recall by
# class 0.00); both at N(0, 0.01) varied but half ignored the labels (precision by class 0.63
# at step 1,550); this pair gives 0.81 precision and 0.41 recall by class at step 1,000.
G_EMBEDDING_INIT = params.normal(.01)
D_EMBEDDING_INIT = params.normal(1.)
critic_steps = dcgan.critic_steps


def config(**overrides):
    cfg = merged('cgan', DEFAULTS, overrides)
    if cfg['ARCH'] not in ARCHS:
        raise ConfigError('ARCH must be one of {}, got {!r}'.format(ARCHS, cfg['ARCH']))
    if cfg['ARCH'] == 'conv' and cfg['IMAGE_SIZE'] != 32:
        raise ConfigError('ARCH conv makes 32x32 images; pass --IMAGE_SIZE 32')
    if not cfg['CONDITIONAL']:
        raise ConfigError('cgan is conditional: CONDITIONAL must stay true')
    layout.check(cfg['data_format'])
    return cfg


def _maxout(name, x, units, pieces):
    """Maxout (Goodfellow et al. 2013): the max over ``pieces`` linear maps per unit, as
    pairwise maxima (TF 1.15's reduce_max gradient needs DynamicStitch, AI CPU only on
    Ascend)."""
    y = tf.reshape(Linear(name, int(x.shape[1]), units * pieces, x, init=MLP_D_INIT),
                   [-1, units, pieces])
    return functools.reduce(tf.maximum, [y[:, :, piece] for piece in range(pieces)])


def _embedding(name, n_classes, dim, labels, init):
    table = params.param(name, [n_classes, dim], init)
    return embedding.lookup(table, labels)


def _to_images(pixels):
    """Sigmoid outputs (given as logits) as images in [-1, 1]."""
    return 2. * tf.sigmoid(pixels) - 1.


def generator(cfg, n_samples, labels=None, noise=None, is_training=True, phase=None,
              update_moving_stats=False):
    """NHWC images in [-1, 1] of int32 ``labels`` [n] from N(0, 1) noise [n, Z_DIM]."""
    del is_training, phase, update_moving_stats  # no batch statistics; one phase
    if labels is None:
        raise ValueError('a CONDITIONAL generator needs labels')
    if noise is None:
        noise = tf.random_normal([n_samples, cfg['Z_DIM']])
    size, channels = cfg['IMAGE_SIZE'], cfg['CHANNELS']
    if cfg['ARCH'] == 'mlp':
        uniform = 0.5 * (1. + tf.math.erf(noise / 2. ** 0.5))
        dense = functools.partial(Linear, init=MLP_G_INIT)
        h_z = tf.nn.relu(dense('Generator.Z', cfg['Z_DIM'], 200, uniform))
        h_y = tf.nn.relu(dense('Generator.Y', cfg['N_CLASSES'], 1000,
                               tf.one_hot(labels, cfg['N_CLASSES'])))
        h = tf.nn.relu(dense('Generator.Joint', 1200, 1200, tf.concat([h_z, h_y], 1)))
        pixels = dense('Generator.Output', 1200, size * size * channels, h)
        return tf.reshape(_to_images(pixels), [-1, size, size, channels])
    x = tf.concat([noise, _embedding('Generator.Embedding', cfg['N_CLASSES'], cfg['Z_DIM'],
                                     labels, G_EMBEDDING_INIT)], 1)
    widths = [256, 128, 64]
    with layout.using(cfg['data_format']):
        x = Linear('Generator.Input', 2 * cfg['Z_DIM'], 16 * widths[0], x, biases=False)
        x = tf.nn.relu(layernorm.Layernorm('Generator.InputN',
                                           layout.unflatten_nchw(x, widths[0], 4, 4)))
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            name = 'Generator.Up{}'.format(i + 1)
            x = tf.nn.relu(layernorm.Layernorm(name + 'N', Deconv2D(name, w_in, w_out, 4, x,
                                                                    biases=False)))
        x = Deconv2D('Generator.Output', widths[-1], channels, 4, x, biases=False)
        return layout.to_nhwc(_to_images(x))


def dropout_units(cfg):
    """Units the MLP critic drops out: input pixels, then the X, Y and joint maxout layers."""
    return cfg['IMAGE_SIZE'] ** 2 * cfg['CHANNELS'] + 240 + 50 + 240


def discriminator(cfg, images, labels=None, phase=None):
    """(logits [n] of 'real' for the image-label pairs, None), without dropout."""
    del phase  # one phase
    return critic(cfg, images, labels)


def critic(cfg, images, labels, dropout=None):
    """The discriminator; the MLP critic drops units out where ``dropout`` (U[0, 1) draws
    [n, dropout_units(cfg)], from the input pipeline) is given: in training."""
    if labels is None:
        raise ValueError('the cgan critic scores image-label pairs: it needs labels')
    n_pixels = cfg['IMAGE_SIZE'] ** 2 * cfg['CHANNELS']
    if cfg['ARCH'] == 'mlp':
        offsets = iter(np.cumsum([0, n_pixels, 240, 50]))

        def drop(x, rate=cfg['DROPOUT']):
            """Inverted dropout (tf.nn.dropout's rule) by comparisons of given draws."""
            start = next(offsets)
            if dropout is None or not rate:
                return x
            draws = dropout[:, start:start + int(x.shape[1])]
            return x * tf.cast(draws >= rate, x.dtype) / (1. - rate)

        # Pixels in [0, 1] as the paper's critic saw them, so a dropped pixel is background.
        pixels = drop(tf.reshape(images, [-1, n_pixels]) * .5 + .5, cfg['INPUT_DROPOUT'])
        h_x = drop(_maxout('Discriminator.X', pixels, 240, 5))
        h_y = drop(_maxout('Discriminator.Y', tf.one_hot(labels, cfg['N_CLASSES']), 50, 5))
        h = drop(_maxout('Discriminator.Joint', tf.concat([h_x, h_y], 1), 240, 4))
        return tf.reshape(Linear('Discriminator.Output', 240, 1, h, init=MLP_D_INIT), [-1]), None
    size = cfg['IMAGE_SIZE']
    label_map = tf.reshape(_embedding('Discriminator.Embedding', cfg['N_CLASSES'], size * size,
                                      labels, D_EMBEDDING_INIT), [-1, size, size, 1])
    widths = [cfg['CHANNELS'] + 1, 64, 128, 256]
    with layout.using(cfg['data_format']):
        x = layout.from_nhwc(tf.concat([images, label_map], 3))
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            name = 'Discriminator.Down{}'.format(i + 1)
            x = leaky_relu(layernorm.Layernorm(name + 'N', Conv2D(name, w_in, w_out, 4, x,
                                                                  stride=2, biases=False)))
        return tf.reshape(Linear('Discriminator.Output', 16 * widths[-1], 1,
                                 layout.flatten_nchw(x), biases=False), [-1]), None


def recipe(cfg, phase):
    """One D step on a labelled real batch and generated pairs, then one G step."""
    dropout = steps.uniform(dropout_units(cfg)) if cfg['ARCH'] == 'mlp' else None
    return dcgan.bce_recipe(cfg, phase, functools.partial(generator, cfg),
                            functools.partial(critic, cfg), dropout)
