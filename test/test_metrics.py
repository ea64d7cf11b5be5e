"""Scores against NumPy references, and the frozen-classifier scorer on a stand-in graph."""
import numpy as np
import pytest

from conftest import new_session, write_standin_classifier
from tflib import images
from tflib.compat import tf
from tflib.metrics import classifier, scores, variety


def softmax(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def entropy(p, axis=-1):
    return -np.sum(p * np.log(p), axis=axis)


def test_inception_score_matches_the_entropy_form():
    """exp(E KL(p(y|x) || p(y))) = exp(H(p(y)) - E H(p(y|x))), split by split."""
    probs = softmax(np.random.RandomState(0).randn(1000, 10) * 3)
    mean, std = scores.inception_score(probs, splits=10)
    per_split = [np.exp(entropy(part.mean(0)) - entropy(part).mean())
                 for part in np.split(probs, 10)]
    assert mean == pytest.approx(np.mean(per_split), rel=1e-10)
    assert std == pytest.approx(np.std(per_split), rel=1e-8)


def test_inception_score_with_exact_zeros():
    """Float32 softmax of a confident classifier gives exact zeros: 0 log 0 counts as 0."""
    probs = np.eye(10)[np.arange(100) % 10]
    assert scores.inception_score(probs)[0] == pytest.approx(10.)


def test_inception_score_extremes():
    confident = softmax(np.eye(10)[np.arange(1000) % 10] * 50.)
    assert scores.inception_score(confident)[0] == pytest.approx(10., rel=1e-6)
    same = softmax(np.tile(np.random.RandomState(1).randn(1, 10), (500, 1)))
    assert scores.inception_score(same) == pytest.approx((1., 0.), abs=1e-9)


def test_fid():
    rng = np.random.RandomState(0)
    x = rng.randn(500, 8) @ rng.randn(8, 8)
    mu, sigma = scores.statistics(x)
    assert scores.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0., abs=1e-6)
    # Diagonal covariances: sum (sqrt(s1) - sqrt(s2))^2 + ||mu1 - mu2||^2.
    s1, s2 = np.array([1., 4., 9.]), np.array([4., 1., 1.])
    m1, m2 = np.zeros(3), np.array([1., 2., 0.])
    expected = np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2) + 5.
    assert scores.frechet_distance(m1, np.diag(s1), m2, np.diag(s2)) == pytest.approx(expected)
    with pytest.raises(ValueError, match='FID statistics disagree in size'):
        scores.frechet_distance(m1, np.diag(s1), mu, sigma)


def test_kid_is_unbiased_mmd():
    rng = np.random.RandomState(0)
    real, fake = rng.randn(60, 5), rng.randn(60, 5) + 0.5
    mean, _ = scores.kernel_inception_distance(real, fake, n_subsets=1, subset_size=60)
    k = lambda a, b: (a @ b.T / 5. + 1) ** 3
    m = 60
    reference = ((k(real, real).sum() - np.trace(k(real, real))) / (m * (m - 1)) +
                 (k(fake, fake).sum() - np.trace(k(fake, fake))) / (m * (m - 1)) -
                 2 * k(real, fake).mean())
    assert mean == pytest.approx(reference)
    same, _ = scores.kernel_inception_distance(rng.randn(400, 5), rng.randn(400, 5),
                                               n_subsets=20, subset_size=200)
    assert abs(same) < 0.1 * mean


def test_frozen_classifier_scores_in_batches(tmp_path, rng):
    path = write_standin_classifier(tmp_path / 'inception_standin.pb')
    pixels = rng.randint(0, 256, (250, 20, 20, 3)).astype(np.float32)
    model = classifier.FrozenClassifier(path, batch_size=100)
    features, probs = model.run(pixels)
    model.close()
    assert features.shape == (250, 16) and probs.shape == (250, 10)
    np.testing.assert_allclose(probs.sum(1), 1., rtol=1e-5)
    # The graph as shipped takes one image per run: the batched scorer agrees with it.
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(open(path, 'rb').read())
    with new_session() as session:
        tf.import_graph_def(graph_def, name='')
        one = [session.run(['pool_3:0', 'softmax:0'], {'ExpandDims:0': pixels[i:i + 1]})
               for i in (0, 137, 249)]
    for (f, p), i in zip(one, (0, 137, 249)):
        np.testing.assert_allclose(features[i], f.reshape(-1), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(probs[i], p[0], rtol=1e-4, atol=1e-6)


def test_to_pixels_is_the_original_conversion_of_the_saved_pixels():
    """improved_wgan_training's ((x + 1) * (255.99 / 2)).astype('int32'), also for the saved
    uint8 images (a rounding conversion moved a quarter of the pixels by a grey level)."""
    grey = np.array([-1.2, -1., -.99, 0., .5, .99, 1., 1.3]).reshape(1, 1, 8, 1)
    pixels = classifier.to_pixels(grey)
    assert pixels.shape == (1, 1, 8, 3)
    assert pixels[0, 0, :, 0].tolist() == [0., 0., 1., 127., 191., 254., 255., 255.]
    x = np.random.RandomState(0).uniform(-1, 1, (4, 8, 8, 3))
    original = ((x + 1) * (255.99 / 2)).astype('int32')
    np.testing.assert_array_equal(classifier.to_pixels(x), original)
    np.testing.assert_array_equal(images.to_uint8(x), original)


def test_bad_classifier_graphs(tmp_path):
    with pytest.raises(classifier.ScorerError, match='nothing.pb: no such classifier graph'):
        classifier.FrozenClassifier(str(tmp_path / 'nothing.pb'))
    (tmp_path / 'garbage.pb').write_bytes(b'\x00\xffnot a graph' * 10)
    with pytest.raises(classifier.ScorerError, match='garbage.pb: not a frozen TensorFlow'):
        classifier.FrozenClassifier(str(tmp_path / 'garbage.pb'))
    path = write_standin_classifier(tmp_path / 'other.pb')
    with pytest.raises(classifier.ScorerError, match='other.pb: the graph lacks'):
        classifier.FrozenClassifier(path, features='mixed_10/join:0')


def two_clusters(n=200, seed=0):
    """Points of two far-apart Gaussian clusters, n each, as A then B."""
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.randn(n, 8), rng.randn(n, 8) + 100.]).astype(np.float32)


def test_prdc_of_identical_sets_is_one():
    real = two_clusters()
    assert variety.prdc_scores(real, real.copy()) == pytest.approx(
        {'precision': 1., 'recall': 1., 'density': 1., 'coverage': 1.})


def test_prdc_of_disjoint_sets_is_zero():
    real = two_clusters()
    assert variety.prdc_scores(real, real + 1000.) == pytest.approx(
        {'precision': 0., 'recall': 0., 'density': 0., 'coverage': 0.})


def test_prdc_of_a_set_covering_half_of_another():
    """A generator that draws only cluster A: all its images are real-looking (precision and
    density 1) but it reaches half of the real images (recall and coverage 1/2)."""
    real = two_clusters()
    assert variety.prdc_scores(real, real[:200].copy()) == pytest.approx(
        {'precision': 1., 'recall': .5, 'density': 1., 'coverage': .5})


def test_prdc_subsamples_large_sets_with_a_seed():
    real, fake = two_clusters(300), two_clusters(300, seed=1)
    first = variety.prdc_scores(real, fake, limit=100, seed=3)
    assert first == variety.prdc_scores(real, fake, limit=100, seed=3)
    assert first != variety.prdc_scores(real, fake, limit=100, seed=4)
    with pytest.raises(ValueError, match='more than k = 5'):
        variety.prdc_scores(real, fake[:5])


def test_prdc_by_class_shows_a_collapse_inside_a_class():
    """Class 0's generated images are copies of one real image, class 1's the real set: the
    pooled recall stays above a half, class 0's recall is k / n."""
    rng = np.random.RandomState(0)
    real = rng.randn(400, 8).astype(np.float32)
    labels = np.arange(400) % 2
    fake = real.copy()
    fake[labels == 0] = real[0]
    per_class = variety.prdc_by_class(real, labels, fake + rng.randn(400, 8) * 1e-3, labels)
    assert sorted(per_class) == [0, 1]
    assert per_class[0]['precision'] == 1. and per_class[0]['recall'] < .05
    assert per_class[1]['recall'] > .9
    assert variety.prdc_scores(real, fake)['recall'] > .5
