"""The training data of a run: the dataset the settings name, limited and sharded."""
import numpy as np

import datasets
from tflib.config import ConfigError


def parse_classes(text):
    try:
        return [int(c) for c in text.split(',')] if text.strip() else []
    except ValueError:
        raise ConfigError('--classes expects comma-separated labels like 5,6,7, got {!r}'.format(
            text))


def load(values, image_size, channels, cluster):
    """(this rank's Source of the run's training images, the held-out Source or None), from
    the data ``values`` (the loop settings) name: --classes and --max_images applied, --holdout
    images kept out (every rank holds the same ones out), then every cluster.size-th image
    from its rank on."""
    for flag, zero in (('max_images', 'all'), ('holdout', 'none')):
        if values[flag] < 0:
            raise ConfigError('--{} must be 0 ({}) or a number of images, got {}'.format(
                flag, zero, values[flag]))
    source = datasets.get(values['dataset'])(values['data_path'], image_size, channels,
                                             values['split'])
    if values['classes'] or values['max_images']:
        source = datasets.base.select(source, parse_classes(values['classes']),
                                      values['max_images'], values['seed'])
        print('training on {} images{}'.format(len(source), ' of classes {}'.format(
            values['classes']) if values['classes'] else ''))
    held_out = None
    if values['holdout']:
        if values['holdout'] >= len(source):
            raise ConfigError('--holdout {}: the data has {} images; hold fewer out'.format(
                values['holdout'], len(source)))
        source, held_out = datasets.base.split(source, values['holdout'], values['seed'])
        print('{} images held out, {} left to train on'.format(len(held_out), len(source)))
    if cluster.parallel:
        source = datasets.base.shard(source, cluster.rank, cluster.size)
    return source, held_out


def background(source, n=500):
    """The data's background in [-1, 1], what DiffAugment's shifted-in pixels and cutouts are
    filled with: the median of the outermost pixels of (up to) its first ``n`` images."""
    images = source.read(np.arange(min(n, len(source))))[0].astype(np.float32) / 127.5 - 1.
    ring = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]],
                          axis=1)
    return float(np.median(ring))
