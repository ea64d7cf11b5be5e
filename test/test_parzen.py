"""Parzen-window log-likelihood: closed forms, a dense reference, blocking, sigma selection on data
whose sigma is known, bounded memory and input checks."""
import tracemalloc

import numpy as np
import pytest
from scipy.special import logsumexp

from tflib.metrics import parzen


def dense_reference(samples, points, sigma):
    """The formula in one [M, N, d] broadcast, as parzen_ll.py computes it."""
    sq = (((points[:, None, :] - samples[None, :, :]) / sigma) ** 2).sum(2)
    d = samples.shape[1]
    return (logsumexp(-0.5 * sq, axis=1) - np.log(len(samples))
            - d * np.log(sigma * np.sqrt(2 * np.pi)))


def test_one_sample_at_the_point():
    """N = 1, x = mu: log p = -d log(sigma sqrt(2 pi)); 1084.8 nats at sigma 0.1 for MNIST."""
    x = np.random.RandomState(0).rand(3, 784)
    for sigma in (0.1, 0.278, 1.):
        ll = parzen.log_likelihood(x[:1], x[:1], sigma)
        assert ll.shape == (1,)
        assert ll[0] == pytest.approx(-784 * np.log(sigma * np.sqrt(2 * np.pi)), rel=1e-12)
    assert parzen.log_likelihood(x[:1], x[:1], 0.1)[0] == pytest.approx(1084.8, abs=0.05)


def test_two_equidistant_samples():
    """mu = x +- r e_1: both kernels equal, so log p = -r^2 / (2 sigma^2) - d log(sigma sqrt(2 pi)),
    also when exp(-r^2 / (2 sigma^2)) underflows (r^2 / 2 sigma^2 = 5e4 here)."""
    d = 10
    x = np.full((1, d), 0.5)
    for r, sigma in ((0.3, 0.2), (1., 1.), (10., 0.01 * np.sqrt(2))):
        mu = np.repeat(x, 2, 0)
        mu[0, 0] += r
        mu[1, 0] -= r
        expected = -r ** 2 / (2 * sigma ** 2) - d * np.log(sigma * np.sqrt(2 * np.pi))
        ll = parzen.log_likelihood(mu, x, sigma)
        assert np.isfinite(ll[0])
        assert ll[0] == pytest.approx(expected, rel=1e-9)


def test_matches_dense_logsumexp():
    rng = np.random.RandomState(1)
    samples, points = rng.rand(70, 20), rng.rand(45, 20)
    for sigma in (0.05, 0.2, 1.):
        ll = parzen.log_likelihood(samples, points, sigma, batch_size=16)
        np.testing.assert_allclose(ll, dense_reference(samples, points, sigma), rtol=1e-6)
    # float32 and integer inputs are taken in float64
    np.testing.assert_allclose(
        parzen.log_likelihood(samples.astype(np.float32), points.astype(np.float32), 0.2),
        dense_reference(samples.astype(np.float32).astype(np.float64),
                        points.astype(np.float32).astype(np.float64), 0.2), rtol=1e-6)
    ints = rng.randint(0, 3, (8, 5))
    np.testing.assert_allclose(parzen.log_likelihood(ints, ints[:3], 1.),
                               dense_reference(ints * 1., ints[:3] * 1., 1.), rtol=1e-6)


def test_block_size_does_not_change_the_result():
    rng = np.random.RandomState(2)
    samples, points = rng.rand(53, 30), rng.rand(41, 30)
    reference = parzen.log_likelihood(samples, points, 0.15, batch_size=1000)
    for batch_size in (1, 7, 40, 53, np.int64(64)):
        np.testing.assert_allclose(
            parzen.log_likelihood(samples, points, 0.15, batch_size=batch_size), reference,
            rtol=1e-12)


def test_select_sigma_finds_the_generating_sigma():
    """Validation points drawn from the KDE itself (a sample mu_i plus N(0, s0^2 I)): the expected
    log-likelihood E_p log q_sigma is highest at q_sigma = p, i.e. sigma = s0."""
    grid = parzen.DEFAULT_SIGMAS
    rng = np.random.RandomState(3)
    samples = rng.rand(50, 8)
    for true_sigma in (grid[2], grid[5]):
        centres = samples[rng.randint(0, len(samples), 3000)]
        valid = centres + true_sigma * rng.randn(*centres.shape)
        best, means = parzen.select_sigma(samples, valid)
        assert best == true_sigma
        assert sorted(means) == sorted(float(s) for s in grid)
        assert means[best] == max(means.values())
        # the grid's values share one pass; each equals log_likelihood's mean
        assert means[float(grid[0])] == pytest.approx(
            parzen.log_likelihood(samples, valid, grid[0]).mean(), rel=1e-12)


def test_score_and_format():
    rng = np.random.RandomState(4)
    samples = rng.rand(40, 6)
    valid = samples[rng.randint(0, 40, 300)] + 0.2 * rng.randn(300, 6)
    test = samples[rng.randint(0, 40, 200)] + 0.2 * rng.randn(200, 6)
    grid = [0.05, 0.2, 0.8]
    result = parzen.score(samples, test, valid, sigmas=grid)
    assert result['sigma'] == 0.2 and result['n'] == 200
    ll = parzen.log_likelihood(samples, test, 0.2)
    assert result['mean'] == pytest.approx(ll.mean(), rel=1e-12)
    assert result['se'] == pytest.approx(ll.std() / np.sqrt(200), rel=1e-12)
    assert sorted(result['validation']) == grid
    text = parzen.format_score(
        {'sigma': 0.2782559402207124, 'mean': 132.004, 'se': 1.8, 'n': 10000})
    assert text == u'Parzen log-likelihood: 132.00 \u00b1 1.80 (sigma 0.278, 10000 test points)'


def test_memory_is_bounded_by_the_blocks():
    """MNIST-sized d: the traced peak stays at a few [block, block] arrays, under one
    [points, samples] float64 matrix (2.4 MB here, 800 MB at 10k x 10k; the [points, samples, d]
    tensor would be 1.9 GB here), and does not grow with the sample count. Inputs are float64, so
    the only allocations are the function's own."""
    rng = np.random.RandomState(5)
    points = rng.rand(300, 784)
    block = 100
    peaks = []
    for n_samples in (300, 1000):
        samples = rng.rand(n_samples, 784)
        tracemalloc.start()
        try:
            parzen.log_likelihood(samples, points, 0.2, batch_size=block)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    block_bytes = block * block * 8
    assert peaks[1] < 4 * block_bytes + block * 784 * 8  # 0.32 MB + 0.63 MB
    assert peaks[1] < len(points) * 1000 * 8 / 2
    assert peaks[1] - peaks[0] < 700 * 8 * 4  # O(n_samples) vectors only, not O(n * d)


@pytest.mark.parametrize('samples, points, sigma, message', [
    (np.zeros((5, 4)), np.zeros((3, 5)), 0.1,
     'points have d = 5 values each but samples have d = 4'),
    (np.zeros((0, 4)), np.zeros((3, 4)), 0.1, r'samples must be a non-empty \[n, d\] array'),
    (np.zeros((5, 4)), np.zeros((0, 4)), 0.1, r'points must be a non-empty \[n, d\] array'),
    (np.zeros((5, 0)), np.zeros((3, 0)), 0.1, r'samples must be a non-empty \[n, d\] array'),
    (np.zeros((5, 28, 28)), np.zeros((3, 784)), 0.1, r'x.reshape\(len\(x\), -1\)'),
    (np.zeros(4), np.zeros((3, 4)), 0.1, r'got shape \(4,\)'),
    (np.zeros((5, 4)), np.zeros((3, 4)), 0., 'sigma must be finite and > 0, got 0.0'),
    (np.zeros((5, 4)), np.zeros((3, 4)), -1., 'sigma must be finite and > 0'),
    (np.zeros((5, 4)), np.zeros((3, 4)), np.nan, 'sigma must be finite and > 0'),
    (np.zeros((5, 4)), np.zeros((3, 4)), [0.1, 0.2], 'sigma must be one number > 0'),
    (np.full((5, 4), np.nan), np.zeros((3, 4)), 0.1, 'samples must be finite'),
    (np.zeros((5, 4)), np.array([['a'] * 4]), 0.1, 'points must hold real numbers'),
])
def test_bad_input(samples, points, sigma, message):
    with pytest.raises(ValueError, match=message):
        parzen.log_likelihood(samples, points, sigma)


def test_bad_grid_and_batch_size():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r'sigmas must be finite and > 0, got \[\]'):
        parzen.select_sigma(x, x, sigmas=[])
    with pytest.raises(ValueError, match=r'sigmas must be finite and > 0, got \[0.1, 0.0\]'):
        parzen.score(x, x, x, sigmas=[0.1, 0.])
    for batch_size in (0, -3, 2.5):
        with pytest.raises(ValueError, match='batch_size must be a positive integer'):
            parzen.log_likelihood(x, x, 0.1, batch_size=batch_size)


def test_protocols_split_as_the_published_scripts():
    """paper: sigma on train[50000:60000] (first 1,000), test split scored; seed: sigma on
    train[10000:20000], train[50000:60000] scored."""
    train, test = np.arange(60000)[:, None], np.arange(10000)[:, None] + 10 ** 6
    validation, scored = parzen.protocol_points('paper', train, test)
    assert validation[:, 0].tolist() == list(range(50000, 51000)) and scored is test
    validation, scored = parzen.protocol_points('seed', train, test)
    assert validation[:, 0].tolist() == list(range(10000, 20000))
    assert scored[:, 0].tolist() == list(range(50000, 60000))
    assert len(parzen.protocol_points('paper', train[:4000], test, 10 ** 6)[0]) == 666
    with pytest.raises(ValueError, match='protocol'):
        parzen.protocol_points('mindspore', train, test)
