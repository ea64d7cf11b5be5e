"""Differentiable augmentation (DiffAugment, Zhao et al. NeurIPS 2020): the critic sees real
and generated images through the same kind of random transform in both steps, so it cannot
memorise a small training set, and the generator's gradient passes through the transform.

The transforms are the paper's (``DiffAugment_tf.py``), per image:
- ``color``: brightness x + (u - 1/2), then saturation (x - m_c) 2u + m_c (m_c: the pixel's
  mean over channels), then contrast (x - m) (u + 1/2) + m (m: the image's mean);
- ``translation``: a shift by whole pixels in [-size/8, size/8] along each axis;
- ``cutout``: a square of half the image's side, centred anywhere, blanked.
The random numbers are drawn on the host as ``StepSpec`` draws (tflib/steps.py) and the
transforms are arithmetic and batched matrix products on them: no gather, scatter or random
op, which Ascend runs on its AI CPU or not at all. Where the paper leaves zeros (pixels shifted
in, the cutout), this module puts ``fill``: the data's background (the paper's 0 is mid-grey in
[-1, 1], which on dark digits is a visible frame).

Adaptive strength (ADA's idea, Karras et al. 2020, for a WGAN critic): with a probability
``p`` each transform is applied to an image (else it leaves it as it is), and ``steer`` moves p
after every critic step towards a target overfitting ratio measured on held-out real images.
"""
import numpy as np

from tflib import params, steps
from tflib.compat import tf
from tflib.config import ConfigError

POLICIES = ('color', 'translation', 'cutout')


def parse(policy):
    """The policies of a comma-separated ``policy`` ('' for none), in the given order."""
    names = [p.strip() for p in policy.split(',') if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown or len(set(names)) != len(names):
        raise ConfigError('--diffaug takes distinct policies among {}, got {!r}'.format(
            ', '.join(POLICIES), policy))
    return tuple(names)


def shift_range(size):
    """The largest translation, in pixels, of an image of side ``size``."""
    return size // 8


def cutout_size(size):
    return size // 2


def draws(policy, n, size, prefix, gated=False):
    """{prefix + name: Draw} of the random numbers ``apply`` takes for ``n`` images of side
    ``size``: factors in [0, 1) [n, 1, 1, 1] (color), shifts + shift_range [n, 2] (translation),
    cutout centres [n, 2] (cutout); each pair is (rows, columns). ``gated``: also a uniform
    [n, policies] per image and transform, which applies it where below the strength p."""
    spec = {prefix + 'gate': steps.uniform(n, len(parse(policy)))} if gated else {}
    for name in parse(policy):
        if name == 'color':
            spec.update((prefix + k, steps.uniform(n, 1, 1, 1))
                        for k in ('brightness', 'saturation', 'contrast'))
        elif name == 'translation':
            spec[prefix + 'shift'] = steps.integers(2 * shift_range(size) + 1, n, 2)
        else:
            spec[prefix + 'cutout'] = steps.integers(size + 1 - cutout_size(size) % 2, n, 2)
    return spec


def _indicator(values, lower, upper):
    """[n, size]: 1 where lower <= index < upper (per image; ``values`` the index range as
    float [size], ``lower`` and ``upper`` [n, 1]), else 0, in arithmetic on whole numbers."""
    return (tf.clip_by_value(values - lower + 1., 0., 1.) *
            tf.clip_by_value(upper - values, 0., 1.))


def _selection(size, shift):
    """[n, size, size]: row i picks source pixel i + shift (one-hot; all 0 when outside)."""
    index = tf.range(size, dtype=tf.float32)
    offset = index[None, None, :] - index[None, :, None] - shift[:, None, None]
    return tf.nn.relu(1. - tf.abs(offset))


def translate(images, shift, fill):
    """NHWC ``images`` shifted: out[b, i, j] = images[b, i + shift[b, 0], j + shift[b, 1]],
    ``fill`` where that is outside the image (``shift`` float [n, 2] of whole numbers)."""
    height, width, channels = [int(d) for d in images.shape[1:]]
    rows, columns = _selection(height, shift[:, 0]), _selection(width, shift[:, 1])
    # Products only, broadcast over the rows for the columns: a transpose's gradient would
    # take an InvertPermutation, which Ascend runs on its AI CPU.
    x = tf.matmul(columns[:, None], images)
    x = tf.reshape(tf.matmul(rows, tf.reshape(x, [-1, height, width * channels])),
                   [-1, height, width, channels])
    inside = (tf.reduce_sum(rows, axis=2)[:, :, None, None] *
              tf.reduce_sum(columns, axis=2)[:, None, :, None])
    return x + fill * (1. - inside)


def cutout(images, centre, fill, on=1.):
    """NHWC ``images`` with the square of side cutout_size centred at ``centre`` (float
    [n, 2], rows and columns, as the paper offsets it) set to ``fill`` (where ``on``, [n, 1])."""
    height, width = int(images.shape[1]), int(images.shape[2])
    side = cutout_size(height)
    lower = centre - float(side // 2)
    rows = _indicator(tf.range(height, dtype=tf.float32)[None, :], lower[:, :1],
                      lower[:, :1] + side)
    columns = _indicator(tf.range(width, dtype=tf.float32)[None, :], lower[:, 1:],
                         lower[:, 1:] + side)
    hole = rows[:, :, None, None] * (columns * on)[:, None, :, None]
    return images * (1. - hole) + fill * hole


def color(images, brightness, saturation, contrast):
    x = images + (brightness - 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (2. * saturation) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (contrast + 0.5) + mean


def apply(images, policy, values, prefix, fill, strength=None):
    """NHWC float ``images`` through ``policy``'s transforms in its order, with the random
    numbers ``values`` ({prefix + name: tensor} as ``draws`` declares them); with a scalar
    ``strength`` p (and gated draws), each transform only where its gate draw is below p.

    A gated-off transform gets its identity's parameters (factors 1/2, no shift, no hole), so
    the graph is the same whatever p is."""
    size = int(images.shape[1])
    for i, name in enumerate(parse(policy)):
        on = 1.
        if strength is not None:  # [n, 1]: 1 where the transform applies
            on = tf.cast(values[prefix + 'gate'][:, i:i + 1] < strength, tf.float32)
        if name == 'color':
            factors = [values[prefix + k] for k in ('brightness', 'saturation', 'contrast')]
            if strength is not None:
                factors = [.5 + (f - .5) * on[:, :, None, None] for f in factors]
            images = color(images, *factors)
        elif name == 'translation':
            shift = tf.cast(values[prefix + 'shift'], tf.float32) - float(shift_range(size))
            images = translate(images, shift * on, fill)
        else:
            images = cutout(images, tf.cast(values[prefix + 'cutout'], tf.float32), fill,
                            on)
    return images


STATE = 'Augment.'  # key prefix of the run's augmentation state: not a model weight


def strength():
    """The adaptive strength p, a variable of the checkpoint (``Augment.p``) starting at 0:
    a run's state, which fine-tuning does not carry to another run."""
    return params.param(STATE + 'p', [], lambda shape, seed: tf.zeros(shape), trainable=False)


def _margins(train, held_out, generated):
    """The critic's mean margin of training reals over held-out ones and over generated ones."""
    train = tf.reduce_mean(train)
    return train - tf.reduce_mean(held_out), train - tf.reduce_mean(generated)


def overfitting_ratio(train, held_out, generated):
    """(E D(train) - E D(held-out)) / (E D(train) - E D(generated)) of critic scores: how much
    of the critic's margin over generated images it also keeps over unseen real ones (0 when
    it generalises, 1 when held-out reals look as fake to it as generated ones)."""
    over_held_out, over_generated = _margins(train, held_out, generated)
    return over_held_out / over_generated


def steer(p, value, train, held_out, generated, target, step):
    """The op setting the variable ``p`` (``value``: what this step read of it) one ``step``
    (within [0, 1]) towards where the critic scores ``train``, ``held_out`` and ``generated``
    images at ``target`` overfitting ratio: up while the ratio is above it. Compared without
    the division, so a batch whose critic margin is nil or negative still steers (up if it
    ranks training over held-out images); scores that are not finite (an fp16 overflow whose
    update the loss scaling skips) leave p as it is."""
    over_held_out, over_generated = _margins(train, held_out, generated)
    excess = over_held_out - target * over_generated
    move = tf.where(tf.abs(excess) < np.inf, tf.sign(excess), 0.)  # |x| < inf: no IsFinite
    return tf.assign(p, tf.clip_by_value(value + step * move, 0., 1.))
