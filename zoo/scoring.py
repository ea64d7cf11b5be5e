"""Scoring generated images with a frozen classifier, and the lines scores print as."""
import os

from tflib.config import ConfigError
from tflib.metrics import classifier, scores

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
