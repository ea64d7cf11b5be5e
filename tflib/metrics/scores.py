"""The scores, in NumPy, from a classifier's class probabilities or pool features."""
import warnings

import numpy as np
from scipy import linalg


def inception_score(probs, splits=10):
    """Inception Score (Salimans et al. 2016) as improved_wgan_training computes it:
    exp(E_x KL(p(y|x) || p(y))) on each of ``splits`` consecutive parts; (mean, std).
    A probability of exactly 0 contributes 0 (the limit of p log p), where the original
    gives NaN; otherwise the two agree."""
    probs = np.asarray(probs, np.float64)
    n = len(probs)
    scores = []
    for i in range(splits):
        part = probs[i * n // splits:(i + 1) * n // splits]
        with np.errstate(divide='ignore', invalid='ignore'):
            kl = part * (np.log(part) - np.log(np.mean(part, 0, keepdims=True)))
        kl[part == 0] = 0.
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return float(np.mean(scores)), float(np.std(scores))


def softmax(logits):
    """Class probabilities in float64, so confident predictions do not round to exactly 0."""
    logits = np.asarray(logits, np.float64)
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def statistics(features):
    """(mu, sigma) of features [N, D]: what a FID statistics .npz holds."""
    features = np.asarray(features, np.float64)
    return features.mean(0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """FID (Heusel et al. 2017): ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), with the
    TTUR reference code's guard for a singular product."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError('FID statistics disagree in size: mu {} vs {}, sigma {} vs {}'.format(
            mu1.shape, mu2.shape, sigma1.shape, sigma2.shape))
    diff = mu1 - mu2
    with warnings.catch_warnings():  # a singular product is handled here (and said by callers)
        warnings.simplefilter('ignore', linalg.LinAlgWarning)
        covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
        if not np.isfinite(covmean).all():
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def kernel_inception_distance(real, fake, n_subsets=100, subset_size=1000, seed=0):
    """KID (Binkowski et al. 2018): the unbiased MMD^2 with the cubic polynomial kernel
    k(x, y) = (x.y / d + 1)^3, averaged over random subsets; (mean, std)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    d = real.shape[1]
    m = min(subset_size, len(real), len(fake))
    rng = np.random.RandomState(seed)
    values = []
    for _ in range(n_subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = [(a.dot(b.T) / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y))]
        values.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                      - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))
