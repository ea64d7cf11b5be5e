"""Population statistics for batch normalisation ("precise BN"): what a BatchNorm layer's
batch statistics are on average over many batches.

A generator that normalises with its batch's statistics (as the authors' code does) gives each
image a value that depends on the other images of its batch, so a server answering one request
at a time gets other images, and worse ones. Estimated once from many batches, and used as
constants, the statistics make every image depend on its own inputs alone, with the batches'
quality. Under ``recording()`` the BatchNorm layers report their batch moments by layer name;
under ``fixed(statistics)`` they normalise with the given ones instead of the batch's.
"""
import contextlib

import numpy as np

from tflib.compat import tf

_recorded = None  # under recording(): {layer name: (mean, variance) tensors}
_fixed = None     # under fixed(): {layer name: (mean, variance) arrays}


@contextlib.contextmanager
def recording():
    """Yields a dict that the BatchNorm layers built inside fill with {name: (mean, variance)}
    (per channel, tensors of the batch's moments)."""
    global _recorded
    _recorded = {}
    try:
        yield _recorded
    finally:
        _recorded = None


@contextlib.contextmanager
def fixed(statistics):
    """BatchNorm layers built inside normalise with ``statistics`` {name: (mean, variance)}."""
    global _fixed
    if statistics is None:  # else the layers would quietly keep their batch's
        raise ValueError('population BatchNorm needs statistics (population.estimate)')
    _fixed = statistics
    try:
        yield
    finally:
        _fixed = None


def record(name, x, axes):
    """Under recording(), report layer ``name``'s per-channel batch moments of ``x`` over
    ``axes``; otherwise nothing."""
    if _recorded is not None:
        _recorded[name] = tf.nn.moments(x, axes)


def statistics(name):
    """Layer ``name``'s population (mean, variance) as constants [C], or None outside
    fixed()."""
    if _fixed is None:
        return None
    if name not in _fixed:
        raise KeyError('no population statistics for BatchNorm layer {}'.format(name))
    return tuple(tf.constant(np.asarray(v, np.float32)) for v in _fixed[name])


def estimate(batches):
    """{name: (mean, variance)} of the population from per-batch moments, ``batches`` a list
    of {name: (mean, variance)} arrays of equal-sized batches: the mean of the means, and the
    mean within-batch variance plus the variance of the means (which adds up to the
    population's variance)."""
    statistics = {}
    for name in batches[0]:
        means = np.stack([b[name][0] for b in batches])
        variances = np.stack([b[name][1] for b in batches])
        statistics[name] = (means.mean(0), variances.mean(0) + means.var(0))
    return statistics
