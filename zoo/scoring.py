"""Scoring generated images with a frozen classifier, against real statistics, and the lines
scores print as."""
import os

import numpy as np

from tflib.config import ConfigError
from tflib.metrics import classifier, scores, variety

STATS_FEATURES = 10000  # kept for KID and precision / recall (the first of larger datasets)
DIGIT_CLASSIFIER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'data', 'digit_classifier.pb')


def classifier_path(path, channels):
    """``path``, or the built-in digit classifier for 1-channel images."""
    if path:
        return path
    if channels == 1:
        return DIGIT_CLASSIFIER
    raise ConfigError('--classifier is required for colour images (e.g. inception-2015-12-05\'s '
                      'classify_image_graph_def.pb)')


def open_classifier(path, channels, batch_size=100):
    """The FrozenClassifier of ``classifier_path(path, channels)``; close() it after."""
    return classifier.FrozenClassifier(classifier_path(path, channels), batch_size=batch_size)


def inception(model, images):
    """(features [N, F], Inception Score mean, std) of generator images in [-1, 1]."""
    features, probs = model.run(classifier.to_pixels(images))
    mean, std = scores.inception_score(probs)
    return features, mean, std


def real_statistics(source, classifier_file, channels, batch_size=100):
    """The contents of a real-statistics .npz: mu and sigma of the classifier features of
    every image of ``source`` (a datasets source of 0..255 RGB images), the first
    STATS_FEATURES features, and their labels when the source has them."""
    model = open_classifier(classifier_file, channels, batch_size)
    features, labels = [], []
    try:
        for start in range(0, len(source), batch_size):
            pixels, batch_labels = source.read(np.arange(start, min(start + batch_size,
                                                                    len(source))))
            features.append(model.run(pixels.astype(np.float32))[0])
            labels.append(batch_labels)
    finally:
        model.close()
    features = np.concatenate(features)
    mu, sigma = scores.statistics(features)
    stats = {'mu': mu, 'sigma': sigma, 'features': features[:STATS_FEATURES]}
    if source.n_classes is not None:
        stats['labels'] = np.concatenate(labels)[:STATS_FEATURES]
    return stats


def load_stats(path):
    """A real-statistics .npz (gan_eval.py --make_stats): mu and sigma for FID; features for
    KID and precision / recall / density / coverage; labels, one per feature, for the
    per-class breakdown."""
    try:
        stats = dict(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as error:
        raise ConfigError('{}: not a readable statistics .npz ({})'.format(path, error))
    if 'mu' not in stats or 'sigma' not in stats:
        raise ConfigError('{}: expected arrays mu and sigma'.format(path))
    if 'labels' in stats and len(stats['labels']) != len(stats.get('features', ())):
        raise ConfigError('{}: {} labels for {} features'.format(
            path, len(stats['labels']), len(stats.get('features', ()))))
    return stats


def compare_to_real(stats, features, labels=None, k=variety.NEAREST_K):
    """Generated ``features`` (and their class ``labels`` for a conditional generator) scored
    against real ``stats`` (load_stats): fid; with real features kid, kid_std, precision,
    recall, density, coverage; with real labels too, ``by_class`` {class: those four}."""
    mu, sigma = scores.statistics(features)
    results = {'fid': scores.frechet_distance(mu, sigma, stats['mu'], stats['sigma'])}
    if 'features' in stats:
        real = stats['features']
        results['kid'], results['kid_std'] = scores.kernel_inception_distance(real, features)
        try:
            results.update(variety.prdc_scores(real, features, k))
            if labels is not None and 'labels' in stats:
                results['by_class'] = variety.prdc_by_class(real, stats['labels'], features,
                                                            labels, k)
        except ValueError as error:  # too few images for k neighbours
            raise ConfigError(str(error))
    return results


def real_comparison_lines(results):
    """The printed lines of ``compare_to_real``'s results."""
    lines = ['FID: {:.4f}'.format(results['fid'])]
    if 'kid' in results:
        lines.append('KID: {:.6f} +- {:.6f}'.format(results['kid'], results['kid_std']))
        lines.append(', '.join('{}: {:.4f}'.format(name, results[name])
                               for name in variety.NAMES))
    by_class = results.get('by_class') or {}
    for name in ('precision', 'recall') if by_class else ():  # labels ignored / collapse
        values = [by_class[c][name] for c in sorted(by_class)]
        lines.append('{} by class: {} (mean {:.4f}, min {:.4f})'.format(
            name, ' '.join('{}:{:.2f}'.format(c, v) for c, v in zip(sorted(by_class), values)),
            np.mean(values), np.min(values)))
    return lines


def scalars(results):
    """``compare_to_real``'s results as flat TensorBoard scalars."""
    flat = {name: value for name, value in results.items() if name != 'by_class'}
    for name in ('precision', 'recall') if results.get('by_class') else ():
        flat['class_{}_mean'.format(name)] = float(np.mean([
            r[name] for r in results['by_class'].values()]))
    return flat


class Scorer(object):
    """Scores generated images: the Inception Score from a classifier (``classifier_path``,
    opened at first use), and with real ``stats`` (a load_stats path) ``compare_to_real``'s scores.
    close() it after."""

    def __init__(self, classifier=None, channels=1, stats=None, k=variety.NEAREST_K,
                 batch_size=100):
        self.classifier, self.channels, self.k, self.batch_size = classifier, channels, k, \
            batch_size
        self.stats = load_stats(stats) if stats else None
        self.model = None

    def score(self, generated, labels=None):
        """{inception_score, inception_std, and compare_to_real's} of images in [-1, 1] with their
        classes (``labels``, None if unconditional)."""
        if self.model is None:
            self.model = open_classifier(self.classifier, self.channels, self.batch_size)
        features, mean, std = inception(self.model, generated)
        results = {'inception_score': mean, 'inception_std': std}
        if self.stats is not None:
            results.update(compare_to_real(self.stats, features, labels, self.k))
        return results

    def close(self):
        if self.model is not None:
            self.model.close()


def inception_label(n):
    return 'inception_{}'.format('{}k'.format(n // 1000) if n % 1000 == 0 else n)


def inception_line(n, mean, std):
    """The Ascend port's score line, which test/*.sh parse (with the real N)."""
    label = inception_label(n)
    return 'Final Average Distances : {} score : {} {}_std: {}'.format(label, mean, label, std)


def progress_line(step, n, mean, std):
    """The score line of a run's periodic score."""
    label = inception_label(n)
    return 'inception at step {}: {} score : {:.4f} {}_std: {:.4f}'.format(step, label, mean,
                                                                          label, std)
