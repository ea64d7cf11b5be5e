"""Fidelity and variety of generated images as separate numbers, from classifier features:
improved precision and recall (Kynkaanniemi et al. 2019) and density and coverage (Naeem et al.
2020), computed by the authors' ``prdc`` package. Precision and density say how much of the
generated set lies on the real manifold, recall and coverage how much of the real manifold the
generated set reaches: a generator that draws one image per class scores high precision and low
recall, which FID and IS mix into one figure.

Each set is a k-nearest-neighbour ball cover; its cost is the pairwise distances, so sets are
subsampled (seeded) to at most ``LIMIT`` points: 5,000 x 5,000 float32 distances are 100 MB.
"""
import contextlib
import io

import numpy as np
import prdc

NEAREST_K = 5  # the papers' choice
LIMIT = 5000
NAMES = ('precision', 'recall', 'density', 'coverage')


def _subsample(features, limit, rng):
    features = np.asarray(features, np.float32)
    if len(features) > limit:
        features = features[np.sort(rng.choice(len(features), limit, replace=False))]
    return features


def prdc_scores(real, fake, k=NEAREST_K, limit=LIMIT, seed=0):
    """{precision, recall, density, coverage} of ``fake`` features [N, F] against ``real``
    ones [M, F]; each set needs more than ``k`` points."""
    if min(len(real), len(fake)) <= k:
        raise ValueError('precision/recall need more than k = {} real and generated points '
                         '(got {} and {})'.format(k, len(real), len(fake)))
    rng = np.random.RandomState(seed)
    real, fake = _subsample(real, limit, rng), _subsample(fake, limit, rng)
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        found = prdc.compute_prdc(real, fake, k)
    return {name: float(found[name]) for name in NAMES}


def prdc_by_class(real, real_labels, fake, fake_labels, k=NEAREST_K, limit=LIMIT, seed=0):
    """{class: prdc_scores of that class's generated features against its real ones}, for the
    classes both sets hold: the view that shows a conditional generator collapsing inside a
    class while the classes as a whole look varied."""
    real_labels, fake_labels = np.asarray(real_labels), np.asarray(fake_labels)
    return {int(c): prdc_scores(real[real_labels == c], fake[fake_labels == c], k, limit, seed)
            for c in np.intersect1d(real_labels, fake_labels)}
