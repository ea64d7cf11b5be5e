"""Scoring generated images with a frozen classifier, against real statistics, and the lines
scores print as."""
import functools
import hashlib
import os

import numpy as np

import datasets
from tflib import files
from tflib.config import ConfigError
from tflib.metrics import classifier, scores, variety

STATS_FEATURES = 10000  # kept for KID and precision / recall (the first of larger datasets)
KID_SCALE = 1000  # KID is printed x 10^3, as papers report it (Binkowski et al. 2018 on)
NOT_SCORES = ('by_class', 'real_images')  # results that are not one number a step
DIGIT_CLASSIFIER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'data', 'digit_classifier.pb')


# inception-2015-12-05.tgz's graph, the one papers' FIDs are computed with (docs/scoring.md):
# no checksum is published with it; its size is in the archive's listing, and its MD5 as a
# third-party benchmark pins it for OpenAI's copy of the same file.
INCEPTION_FILE = 'classify_image_graph_def.pb'
INCEPTION_BYTES = 95673916
INCEPTION_MD5 = 'e6bb154e85f5d4331c22abcddb5dcf31'


def check_inception(path):
    """A file named as inception-2015-12-05's graph must be that file: a truncated or other
    one would give FIDs that look comparable with papers' and are not."""
    if not path or os.path.basename(path) != INCEPTION_FILE or not os.path.isfile(path):
        return
    stat = os.stat(path)
    size = stat.st_size
    if size != INCEPTION_BYTES or _md5(os.path.realpath(path), (
            stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)) != INCEPTION_MD5:
        raise ConfigError('{}: not inception-2015-12-05\'s {} ({}; that one is {:,} bytes, MD5 '
                          '{}): download it again, or rename a different graph to score with '
                          'it'.format(path, INCEPTION_FILE, '{:,} bytes'.format(size)
                                      if size != INCEPTION_BYTES else 'another MD5',
                                      INCEPTION_BYTES, INCEPTION_MD5))


@functools.lru_cache(maxsize=8)
def _md5(path, version):
    """Read once a process for a file not changed since (``version``: its device, inode and
    times); 95 MB take a second to hash."""
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def classifier_path(path, channels):
    """``path`` (checked when it is named as Inception's graph), or the built-in digit
    classifier for 1-channel images."""
    if path:
        check_inception(path)
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
    every image of ``source`` (a datasets source of 0..255 RGB images), their number n, the
    first STATS_FEATURES features, and their labels when the source has them."""
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
    stats = {'mu': mu, 'sigma': sigma, 'features': features[:STATS_FEATURES],
             'n': len(features)}
    if source.n_classes is not None:
        stats['labels'] = np.concatenate(labels)[:STATS_FEATURES]
    return stats


_SAID_SINGULAR = set()  # the statistics files whose singular covariance has been said


def held_out_digits(path, size=32):
    """The statistics of the 1,000 held-out built-in digits (the test split, never trained
    on) at ``size``, written once to ``path``: the benches' reference."""
    if not os.path.exists(path):
        files.writable(path)
        source = datasets.get('mnist_builtin')('', size, 3, 'test')
        stats = real_statistics(source, None, 1)
        files.write_atomic(path, lambda f: np.savez(f, **stats))
    return path


def load_stats(path):
    """A real-statistics .npz (gan_eval.py --make_stats): mu and sigma for FID (n, the number
    of images, in newer files); features for KID and precision / recall / density /
    coverage; labels, one per feature, for the per-class breakdown. A covariance of lower
    rank than the features (fewer images than features) is said in words, once a file."""
    try:
        stats = dict(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as error:
        raise ConfigError('{}: not a readable statistics .npz ({})'.format(path, error))
    if 'mu' not in stats or 'sigma' not in stats:
        raise ConfigError('{}: expected arrays mu and sigma'.format(path))
    if 'labels' in stats and len(stats['labels']) != len(stats.get('features', ())):
        raise ConfigError('{}: {} labels for {} features'.format(
            path, len(stats['labels']), len(stats.get('features', ()))))
    rank, size = np.linalg.matrix_rank(stats['sigma']), len(stats['sigma'])
    if rank < size and path not in _SAID_SINGULAR:
        _SAID_SINGULAR.add(path)
        print('warning: {}: the real images\' covariance has rank {} for {} features{}, so FID '
              'takes a square root of a singular product: it is still a fair comparison '
              'against this file, not against FIDs from a larger reference set (more than {} '
              'images give a full rank)'.format(
                  path, rank, size, ' ({} images)'.format(int(stats['n'])) if 'n' in stats
                  else '', size))
    return stats


def compare_to_real(stats, features, labels=None, k=variety.NEAREST_K):
    """Generated ``features`` (and their class ``labels`` for a conditional generator) scored
    against real ``stats`` (load_stats): fid; with real features kid, kid_std, precision,
    recall, density, coverage; with real labels too, ``by_class`` {class: those four}."""
    mu, sigma = scores.statistics(features)
    results = {'fid': scores.frechet_distance(mu, sigma, stats['mu'], stats['sigma'])}
    if 'n' in stats:
        results['real_images'] = int(stats['n'])
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
    lines = ['FID: {:.4f}{}'.format(results['fid'], ' (against {} real images)'.format(
        results['real_images']) if 'real_images' in results else '')]
    if 'kid' in results:
        lines.append('KID x 10^3: {:.4f} +- {:.4f} (unbiased MMD^2, cubic kernel, x {} as '
                     'papers report it)'.format(results['kid'] * KID_SCALE,
                                                results['kid_std'] * KID_SCALE, KID_SCALE))
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
    flat = {name: value for name, value in results.items() if name not in NOT_SCORES}
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
        check_inception(classifier)  # a wrong file is refused before any scoring
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
