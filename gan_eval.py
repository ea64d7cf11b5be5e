"""Score a generator: Inception Score, FID and KID from a frozen classifier, and the Gaussian
Parzen-window log-likelihood of real digits.

    python gan_eval.py --ckpt output/quickstart                        # digits: built-in classifier
    python gan_eval.py --ckpt output/run --classifier classify_image_graph_def.pb \\
        --fid_stats cifar10_train.npz --n 50000
    python gan_eval.py --ckpt G.pb | G.onnx ...                         # frozen generators too
    python gan_eval.py --make_stats cifar10_train.npz --dataset cifar10 --data_path ./dataset \\
        --classifier classify_image_graph_def.pb                        # real statistics for FID
    python gan_eval.py --ckpt output/cgan --parzen --dataset mnist --data_path MNIST_DIR
                                                  # + Parzen log-likelihood (CGAN's score)
    python gan_eval.py --ckpt output/dcgan --representation --dataset cifar10 --data_path DIR
                                                  # the critic as a feature extractor (DCGAN)

Images come in batches with labels cycling through the classes when the model is conditional;
a grid of the first 100 and all images (uint8, ``images.npz``) go to --output_dir. Scores print
one per line; the Inception Score keeps the Ascend port's format.
"""
import argparse
import inspect
import os
import sys

import numpy as np

import datasets
import models
from tflib import checkpoints, cli, files, images, inference
from tflib import gan as gan_lib
from tflib.compat import tf
from tflib.config import ConfigError
from tflib.metrics import classifier, parzen, representation, scores

PROGRAM = 'gan_eval.py'
DIGIT_CLASSIFIER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                                'digit_classifier.pb')


def parse(argv):
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split('\n\n')[0])
    parser.add_argument('--ckpt', help='run directory, checkpoint prefix, .pb or .onnx')
    parser.add_argument('--preset', help='describes a checkpoint that has no meta.json')
    parser.add_argument('--n', type=int, default=10000, help='images to generate')
    parser.add_argument('--batch', type=int, default=100, help='images per run call')
    parser.add_argument('--classifier', help='frozen classifier .pb (default: the built-in '
                                             'digit classifier for 1-channel models)')
    parser.add_argument('--fid_stats', help='.npz with mu, sigma (and features for KID)')
    parser.add_argument('--output_dir', help='where grids and images go (default: beside '
                                             'the checkpoint)')
    parser.add_argument('--make_stats', help='write real statistics of --dataset to this .npz')
    parser.add_argument('--dataset', default='mnist_builtin')
    parser.add_argument('--data_path', default='')
    parser.add_argument('--split', default='train')
    parser.add_argument('--image_size', type=int, default=32)
    parser.add_argument('--parzen', action='store_true',
                        help='also the Parzen-window log-likelihood of --dataset (CGAN, MNIST)')
    parser.add_argument('--parzen_protocol', choices=parzen.PROTOCOLS, default='paper',
                        help='paper: sigma on the last sixth of the training images, scored on '
                             'the test split; seed: both from the training images (MindSpore)')
    parser.add_argument('--parzen_validation', type=int, default=parzen.VALIDATION_LIMIT,
                        help='at most this many validation images choose sigma (paper)')
    parser.add_argument('--representation', action='store_true',
                        help='the DCGAN paper\'s test: a linear SVM on the critic\'s pooled '
                             'features of --dataset (train split) scored on its test split, '
                             'beside the same critic untrained')
    parser.add_argument('--representation_labels', type=int, default=0,
                        help='fit the SVM on this many labelled training images (a seeded '
                             'subset; 0: all), as the paper\'s 1,000-label SVHN test')
    parser.add_argument('--debug', action='store_true')
    return parser.parse_known_args(argv)


class Sampler(object):
    """Generates images from a checkpoint, a frozen .pb or an .onnx, in batches."""

    def __init__(self, path, preset=None, flags=()):
        self.conditional, self.n_classes = False, 0
        if path.endswith('.onnx'):
            import onnxruntime
            self.onnx = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
            shapes = {i.name: i.shape for i in self.onnx.get_inputs()}
            self.z_dim = shapes['z:0'][1]
            self.conditional = 'label:0' in shapes
            self.n_classes = 10
            return
        self.onnx = None
        graph = tf.Graph()
        self.session = tf.Session(graph=graph)
        with graph.as_default():
            if path.endswith('.pb'):
                graph_def = classifier.read_graph_def(path, 'generator graph')
                tf.import_graph_def(graph_def, name='')
                if 'z' not in [n.name for n in graph_def.node]:
                    raise classifier.ScorerError('{}: not a generator graph (no input z; '
                                                 'freeze_graph.py writes those)'.format(path))
                self.z_dim = int(graph.get_tensor_by_name('z:0').shape[1])
                self.conditional = 'label' in [n.name for n in graph_def.node]
                self.n_classes = 10
            else:
                model, cfg, prefix = inference.describe(path, preset, flags)
                inference.generator_graph(model, cfg)
                inference.restore_graph(self.session, prefix)
                self.z_dim, self.conditional = cfg['Z_DIM'], cfg.get('CONDITIONAL', False)
                self.n_classes = cfg.get('N_CLASSES', 0)
            # A callable skips session.run's per-call feed and fetch handling: 2.7 instead of
            # 3.2 ms per call for the flagship at batch 1, onnxruntime's speed.
            self.inputs = ['z:0', 'label:0'] if self.conditional else ['z:0']
            self.generate = self.session.make_callable('images:0', self.inputs)

    def sample(self, n, batch, seed=0):
        rng = np.random.RandomState(seed)
        out = []
        for start in range(0, n, batch):
            size = min(batch, n - start)
            feed = {'z:0': rng.randn(size, self.z_dim).astype(np.float32)}
            if self.conditional:
                feed['label:0'] = ((start + np.arange(size)) % self.n_classes).astype(np.int32)
            if self.onnx is not None:
                out.append(self.onnx.run(['images:0'], feed)[0])
            else:
                out.append(self.generate(*[feed[name] for name in self.inputs]))
        return np.concatenate(out)


def default_classifier(path, channels):
    """``path``, or the built-in digit classifier for 1-channel images."""
    if path:
        return path
    if channels == 1:
        return DIGIT_CLASSIFIER
    raise ConfigError('--classifier is required for colour images (e.g. inception-2015-12-05\'s '
                      'classify_image_graph_def.pb)')


def inception_label(n):
    return 'inception_{}'.format('{}k'.format(n // 1000) if n % 1000 == 0 else n)


def inception_line(n, mean, std):
    """The Ascend port's score line, which test/*.sh parse (with the real N)."""
    label = inception_label(n)
    return 'Final Average Distances : {} score : {} {}_std: {}'.format(label, mean, label, std)


def evaluate(args, flags):
    sampler = Sampler(args.ckpt, args.preset, flags)
    generated = sampler.sample(args.n, args.batch)
    out = args.output_dir or (args.ckpt if os.path.isdir(args.ckpt) else
                              os.path.dirname(os.path.abspath(args.ckpt)))
    if not os.path.isdir(out):
        os.makedirs(out)
    pixels = images.to_uint8(generated)
    images.save_png(os.path.join(out, 'eval_grid.png'), images.grid(pixels[:100]))
    files.write_atomic(os.path.join(out, 'images.npz'),
                       lambda f: np.savez_compressed(f, images=pixels))
    model = classifier.FrozenClassifier(default_classifier(args.classifier, generated.shape[3]),
                                        batch_size=args.batch)
    features, probs = model.run(classifier.to_pixels(generated))
    mean, std = scores.inception_score(probs)
    print(inception_line(args.n, mean, std))
    if args.fid_stats:
        stats = load_stats(args.fid_stats)
        mu, sigma = scores.statistics(features)
        print('FID: {:.4f}'.format(scores.frechet_distance(mu, sigma, stats['mu'],
                                                            stats['sigma'])))
        if 'features' in stats:
            kid, kid_std = scores.kernel_inception_distance(stats['features'], features)
            print('KID: {:.6f} +- {:.6f}'.format(kid, kid_std))
    results = {'inception_score': mean, 'inception_std': std}
    if args.parzen:
        results['parzen'] = parzen_score(args, generated)
    print('grid: {}\nimages: {}'.format(os.path.join(out, 'eval_grid.png'),
                                        os.path.join(out, 'images.npz')))
    return results


def parzen_score(args, generated):
    """Log-likelihood of --dataset's images under a Parzen window on the generated ones, in
    [0, 1]: MNIST in its own 28x28 frame (d = 784, as published; generated digits are taken
    back out of the loader's 32x32 padding), other data at the generator's size."""
    load = datasets.get(args.dataset)
    mnist = args.dataset in ('mnist', 'mnist_builtin')
    size, channels = (28 if mnist else generated.shape[1]), generated.shape[3]
    train = load(args.data_path, size, channels, 'train')
    test = load(args.data_path, size, channels, 'test') if args.parzen_protocol == 'paper' \
        else train  # the seed's test points are training images

    def read(source, indices):  # only the images the protocol uses
        return source.read(indices)[0].reshape(len(indices), -1) / 255.

    validation, scored = parzen.protocol_points(args.parzen_protocol, np.arange(len(train)),
                                                np.arange(len(test)), args.parzen_validation)
    validation, test = read(train, validation), read(test, scored)
    samples = (datasets.mnist.to_digit_frame(generated) if mnist else generated) * .5 + .5
    result = parzen.score(samples.reshape(len(samples), -1), test, validation)
    print('{}, protocol {}, {} validation points'.format(
        parzen.format_score(result), args.parzen_protocol, len(validation)))
    return result


def load_stats(path):
    try:
        stats = dict(np.load(path))
    except (OSError, ValueError) as error:
        raise ConfigError('{}: not a readable statistics .npz ({})'.format(path, error))
    if 'mu' not in stats or 'sigma' not in stats:
        raise ConfigError('{}: expected arrays mu and sigma'.format(path))
    return stats


def make_stats(args):
    """mu, sigma and (up to 10,000 of) the features of a dataset's images."""
    source = datasets.get(args.dataset)(args.data_path, args.image_size, 3, args.split)
    channels = 1 if args.dataset.startswith('mnist') else 3
    model = classifier.FrozenClassifier(default_classifier(args.classifier, channels),
                                        batch_size=args.batch)
    features = []
    for start in range(0, len(source), args.batch):
        batch, _ = source.read(np.arange(start, min(start + args.batch, len(source))))
        features.append(model.run(batch.astype(np.float32))[0])
    features = np.concatenate(features)
    mu, sigma = scores.statistics(features)
    files.write_atomic(args.make_stats, lambda f: np.savez(
        f, mu=mu, sigma=sigma, features=features[:10000]))
    print('wrote {}: statistics of {} images of {}'.format(args.make_stats, len(features),
                                                           source.path))


def critic_features(model, cfg, source, batch, prefix=None, seed=0):
    """Pooled critic features [N, F] of every image of ``source``: from the checkpoint at
    ``prefix``, or from a freshly initialised critic (seeded) when None."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(seed)
        images = tf.placeholder(tf.float32, [None, cfg['IMAGE_SIZE'], cfg['IMAGE_SIZE'],
                                             cfg['CHANNELS']])
        if 'labels' in inspect.signature(model.discriminator).parameters:
            raise ConfigError('--representation needs a critic that sees images alone; the '
                              '{} critic also takes labels'.format(models.name(model)))
        model.discriminator(cfg, images)
        if not gan_lib.critic_features():
            raise ConfigError('--representation: the {} critic marks no feature layers'.format(
                models.name(model)))
        features = representation.pooled(gan_lib.critic_features())
        session.run(tf.global_variables_initializer())
        if prefix:
            inference.restore_graph(session, prefix)
        out = []
        for start in range(0, len(source), batch):
            pixels, _ = source.read(np.arange(start, min(start + batch, len(source))))
            out.append(session.run(features, {images: pixels / 127.5 - 1.}))
    return np.concatenate(out)


def representation_test(args, flags):
    """Linear-SVM test accuracy on the checkpoint critic's features and on an untrained one's."""
    model, cfg, prefix = inference.describe(args.ckpt, args.preset, flags)
    load = datasets.get(args.dataset)
    train, test = [load(args.data_path, cfg['IMAGE_SIZE'], cfg['CHANNELS'], split)
                   for split in ('train', 'test')]
    if train.n_classes is None:
        raise ConfigError('--representation needs labelled images; {} has none'.format(
            train.path))
    if args.representation_labels:
        train = datasets.base.select(train, limit=args.representation_labels)
    labels = [source.read(np.arange(len(source)))[1] for source in (train, test)]
    for name, source_prefix in (('trained', prefix), ('untrained', None)):
        train_x, test_x = [critic_features(model, cfg, source, args.batch, source_prefix)
                           for source in (train, test)]
        accuracy, c = representation.linear_accuracy(train_x, labels[0], test_x, labels[1])
        print('representation, {} critic: {:.2%} test accuracy (linear SVM, C {:g}, {} '
              'features, {} train / {} test images)'.format(name, accuracy, c, train_x.shape[1],
                                                             len(train), len(test)))


def run(args, flags):
    if args.make_stats:
        make_stats(args)
    elif args.ckpt and args.representation:
        representation_test(args, flags)
    elif args.ckpt:
        evaluate(args, flags)
    else:
        raise ConfigError('give --ckpt to score a generator or --make_stats to compute real '
                          'statistics')


def main(argv=None):
    args, flags = parse(sys.argv[1:] if argv is None else argv)
    return cli.guarded(PROGRAM, lambda: run(args, flags),
                       (ConfigError, checkpoints.CheckpointError, classifier.ScorerError,
                        datasets.DataError, OSError), args.debug)


if __name__ == '__main__':
    sys.exit(main())
