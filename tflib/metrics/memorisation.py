"""Whether a generator copies its training images, from classifier features.

A generator trained on a few hundred images can score well against them by reproducing them.
The copy rate asks how often a sample lies closer to some training image than fresh real
images of the same distribution do: a held-out image's distance to its nearest training image
calibrates what "close" means, so a generator that draws new images from the data's
distribution copies at about the calibration level, and one that memorises well above it.
"""
import numpy as np

QUANTILE = 0.05  # a held-out image is this close to a training image 5% of the time


def nearest_distances(queries, references, chunk=1024):
    """The Euclidean distance of each of ``queries`` [N, F] to its nearest of ``references``
    [M, F], in chunks of queries (so the distances stay small in memory)."""
    queries = np.asarray(queries, np.float64)
    references = np.asarray(references, np.float64)
    squared = (references ** 2).sum(axis=1)
    nearest = []
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        d2 = (q ** 2).sum(axis=1)[:, None] + squared[None, :] - 2. * q.dot(references.T)
        nearest.append(np.sqrt(np.maximum(d2.min(axis=1), 0.)))
    return np.concatenate(nearest)


def copy_rate(train, held_out, generated, quantile=QUANTILE):
    """{copy_rate, copy_threshold, copy_level}: the share of ``generated`` features closer to
    their nearest ``train`` feature than the ``quantile`` of held-out images' nearest distance
    (the threshold); a generator of fresh images scores about ``quantile`` (the level)."""
    threshold = float(np.quantile(nearest_distances(held_out, train), quantile))
    rate = float(np.mean(nearest_distances(generated, train) < threshold))
    return {'copy_rate': rate, 'copy_threshold': threshold, 'copy_level': quantile}
