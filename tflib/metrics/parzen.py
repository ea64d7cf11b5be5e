"""Gaussian Parzen-window log-likelihood, the score of GAN (Goodfellow et al. 2014, Table 1) and
CGAN (Mirza & Osindero 2014, Table 1) on MNIST, after goodfeli/adversarial parzen_ll.py.

An isotropic Gaussian kernel density estimate is centred on the N generated samples mu_i
(flattened, [N, d], MNIST in [0, 1]); a point x then has

    log p(x) = log (1/N) sum_i exp(-||x - mu_i||^2 / (2 sigma^2)) - d log(sigma sqrt(2 pi)),

sigma is the value of a grid that maximises the mean log-likelihood of validation points, and the
score is the mean over test points ± its standard error std / sqrt(n). Higher is better; it is a
weak measure of sample quality (Theis et al. 2016), kept to compare with the published tables.

The N x M squared distances come from ||x||^2 + ||mu||^2 - 2 x.mu one block of points by one block
of samples at a time, with a running log-sum-exp, so memory does not grow with N x M (and never
holds the original's [points, samples, d] difference tensor).
"""
import numbers

import numpy as np

# parzen_ll.py's grid (--sigma_start -1 --sigma_end 0 --cross_val 10), which MindSpore's CGAN
# eval.py also uses: 10 values from 0.1 to 1.
DEFAULT_SIGMAS = np.logspace(-1, 0, 10)
BATCH_SIZE = 1000
PROTOCOLS = ('paper', 'seed')
VALIDATION_LIMIT = 1000  # parzen_ll.py's --limit_size_val


def protocol_points(protocol, train, test, validation_limit=VALIDATION_LIMIT):
    """(validation points, test points) of a protocol, from a dataset's training and test
    images ([n, d] each; MNIST: 60,000 and 10,000).

    'paper' (goodfeli/adversarial parzen_ll.py, the GAN and CGAN papers): sigma on the last sixth
    of the training images (train[50000:60000]), at most ``validation_limit`` of them; the test
    split is scored. 'seed' (the MindSpore CGAN eval.py): sigma on train[10000:20000], scored on
    train[50000:60000], training images, which reward a model that memorises (283 vs 132 in
    the published tables); the slices scale with the training set's size."""
    if protocol not in PROTOCOLS:
        raise ValueError('protocol must be one of {}, got {!r}'.format(PROTOCOLS, protocol))
    sixth = len(train) // 6
    if protocol == 'paper':
        return train[len(train) - sixth:][:validation_limit], test
    return train[sixth:2 * sixth], train[len(train) - sixth:]


def log_likelihood(samples, points, sigma, batch_size=BATCH_SIZE):
    """Per-point log p(x) [M] of ``points`` [M, d] under the Gaussian KDE of bandwidth ``sigma``
    centred on ``samples`` [N, d] (the module docstring's formula). Work is done in blocks of at
    most ``batch_size`` points x ``batch_size`` samples: about 3 * batch_size^2 float64 values
    (24 MB at the default 1000), besides float64 copies of ``samples`` and of one block of points
    when they are not float64 (10k MNIST samples: 63 MB)."""
    if np.ndim(sigma) != 0:
        raise ValueError('sigma must be one number > 0, got shape {}; select_sigma takes a '
                         'grid'.format(np.shape(sigma)))
    return _log_likelihoods(samples, points, [sigma], batch_size, 'sigma')[0]


def select_sigma(samples, validation_points, sigmas=None, batch_size=BATCH_SIZE):
    """The sigma of ``sigmas`` (default ``DEFAULT_SIGMAS``, parzen_ll.py's np.logspace(-1, 0, 10))
    with the highest mean validation log-likelihood: (best sigma, {sigma: mean log-likelihood}).
    The distances are computed once for the whole grid. Ties go to the first."""
    sigmas = DEFAULT_SIGMAS if sigmas is None else sigmas
    lls = _log_likelihoods(samples, validation_points, sigmas, batch_size, 'sigmas').mean(1)
    means = {float(s): float(ll) for s, ll in zip(np.ravel(sigmas), lls)}
    return float(np.ravel(sigmas)[int(np.argmax(lls))]), means


def score(samples, test_points, validation_points, sigmas=None, batch_size=BATCH_SIZE):
    """The published protocol: sigma chosen on ``validation_points``, then the test points' mean
    log-likelihood and standard error (NumPy's std, ddof 0, / sqrt(n), as parzen_ll.py).
    Returns {'sigma', 'mean', 'se', 'n', 'validation': {sigma: mean validation ll}}."""
    sigma, validation = select_sigma(samples, validation_points, sigmas, batch_size)
    ll = log_likelihood(samples, test_points, sigma, batch_size)
    return {'sigma': sigma, 'mean': float(ll.mean()), 'se': float(ll.std() / np.sqrt(len(ll))),
            'n': int(len(ll)), 'validation': validation}


def format_score(result):
    """'Parzen log-likelihood: MEAN ± SE (sigma S, N test points)' for a ``score`` result."""
    return u'Parzen log-likelihood: {:.2f} \u00b1 {:.2f} (sigma {:.3g}, {} test points)'.format(
        result['mean'], result['se'], result['sigma'], result['n'])


def _log_likelihoods(samples, points, sigmas, batch_size, sigma_name):
    """log p(x) [len(sigmas), M] for every sigma of a grid, sharing the distance blocks."""
    if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError('batch_size must be a positive integer, got {!r}'.format(batch_size))
    batch_size = int(batch_size)
    samples = _matrix(samples, 'samples', np.float64, batch_size)
    points = _matrix(points, 'points', None, batch_size)
    if points.shape[1] != samples.shape[1]:
        raise ValueError('points have d = {} values each but samples have d = {}: both must be '
                         '[n, d] with the same d'.format(points.shape[1], samples.shape[1]))
    sigmas = np.asarray(sigmas, np.float64).ravel()
    if not sigmas.size or not np.all(np.isfinite(sigmas)) or not np.all(sigmas > 0):
        got = float(sigmas[0]) if sigma_name == 'sigma' else sigmas.tolist()
        raise ValueError('{} must be finite and > 0, got {!r}'.format(sigma_name, got))

    n, d = samples.shape
    scale = -0.5 / sigmas ** 2
    sample_sq = np.einsum('ij,ij->i', samples, samples)
    out = np.empty((len(sigmas), len(points)))
    for p0 in range(0, len(points), batch_size):
        x = np.asarray(points[p0:p0 + batch_size], np.float64)
        x_sq = np.einsum('ij,ij->i', x, x)[:, None]
        peak = np.full((len(sigmas), len(x)), -np.inf)  # running max of the exponents
        total = np.zeros((len(sigmas), len(x)))          # running sum of exp(exponent - peak)
        for s0 in range(0, n, batch_size):
            dist = x.dot(samples[s0:s0 + batch_size].T)
            dist *= -2.
            dist += x_sq
            dist += sample_sq[s0:s0 + batch_size]
            np.maximum(dist, 0., out=dist)  # rounding can leave ~-1e-13 where x == mu
            for k in range(len(sigmas)):
                e = dist * scale[k]
                new_peak = np.maximum(peak[k], e.max(1))
                e -= new_peak[:, None]
                np.exp(e, out=e)
                total[k] = total[k] * np.exp(peak[k] - new_peak) + e.sum(1)
                peak[k] = new_peak
        out[:, p0:p0 + len(x)] = peak + np.log(total)
    return out - np.log(n) - d * np.log(sigmas * np.sqrt(2 * np.pi))[:, None]


def _matrix(a, name, dtype, rows):
    """``a`` as a non-empty, finite [n, d] array of real numbers (of ``dtype`` if given), checked
    ``rows`` rows at a time so the check holds no full-size temporary."""
    a = np.asarray(a)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError('{} must be a non-empty [n, d] array (images flattened with '
                         'x.reshape(len(x), -1)), got shape {}'.format(name, a.shape))
    if a.dtype.kind not in 'biuf':
        raise ValueError('{} must hold real numbers, got dtype {}'.format(name, a.dtype))
    if not all(np.isfinite(a[i:i + rows]).all() for i in range(0, len(a), rows)):
        raise ValueError('{} must be finite (no NaN or inf)'.format(name))
    return a if dtype is None else a.astype(dtype, copy=False)
