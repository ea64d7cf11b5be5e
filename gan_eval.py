"""Score a generator: Inception Score, FID, KID, precision, recall, density and coverage (per
class too) from a frozen classifier, and the Gaussian Parzen-window log-likelihood of real digits.

    python gan_eval.py --ckpt output/quickstart                        # digits: built-in classifier
    python gan_eval.py --ckpt output/run --classifier classify_image_graph_def.pb \\
        --fid_stats output/cifar10_train.npz --n 50000
    python gan_eval.py --ckpt G.pb | G.onnx | SAVED_MODEL_DIR ...      # exported generators too
    python gan_eval.py --ckpt output/quickstart --save_images output/samples  # PNGs, for others
    python gan_eval.py --make_stats output/cifar10_train.npz --dataset cifar10 --data_path DIR \\
        --classifier classify_image_graph_def.pb                        # real statistics for FID
    python gan_eval.py --make_stats output/digits_test.npz --split test      # held-out digits
    python gan_eval.py --ckpt output/quickstart --fid_stats output/digits_test.npz --n 5000
    python gan_eval.py --ckpt output/cgan --parzen --dataset mnist --data_path MNIST_DIR
                                                  # + Parzen log-likelihood (CGAN's score)
    python gan_eval.py --ckpt output/dcgan --representation --dataset cifar10 --data_path DIR
                                                  # the critic as a feature extractor (DCGAN)

Images come in batches with labels cycling through the classes when the model is conditional;
a grid of the first 100 and all images (uint8, ``images.npz``: the pixels that were scored) go
to --output_dir, and with --save_images to a folder of PNGs (a sub-folder per class when
conditional) that other scorers and ``--dataset folder`` read. Scores print one per line; the
Inception Score keeps the Ascend port's format.
"""
import argparse
import os
import sys

import numpy as np

import datasets
from tflib import checkpoints, cli, files, images
from tflib import gan as gan_lib
from tflib.compat import tf
from tflib.config import ConfigError
from tflib.metrics import classifier, parzen, representation, variety
from zoo import generators, scoring, settings

PROGRAM = 'gan_eval.py'
RESULTS = ('images.npz', 'eval_grid.png')  # what a scoring run writes to --output_dir


def parse(argv):
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split('\n\n')[0])
    parser.add_argument('--ckpt', help='run directory, checkpoint prefix, .pb, .onnx or '
                                       'SavedModel directory')
    parser.add_argument('--preset', help='describes a checkpoint that has no meta.json')
    parser.add_argument('--n_classes', type=int,
                        help='classes of a conditional .pb / .onnx exported without a '
                             'signature (default 10)')
    parser.add_argument('--n', type=int, default=10000, help='images to generate')
    parser.add_argument('--batch', type=int, default=100, help='images per run call')
    parser.add_argument('--nearest_k', type=int, default=variety.NEAREST_K,
                        help='neighbours of precision / recall / density / coverage')
    parser.add_argument('--output_dir',
                        help='where the grid and images.npz go (default: RUN/eval for a run, '
                             'NAME_eval beside an exported NAME.pb, .onnx or SavedModel; '
                             'then _2, _3, ... after an earlier scoring)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the grid and images.npz of an earlier scoring there')
    parser.add_argument('--save_images', metavar='DIR',
                        help='also write the images as PNGs to this folder (DIR/<class>/ for '
                             'conditional models; a new folder or an earlier one, replaced)')
    parser.add_argument('--make_stats', help='write real statistics of --dataset to this .npz')
    settings.add_arguments(parser, {
        'classifier': 'frozen classifier .pb (\'\': the built-in digit classifier for 1-channel '
                      'models)',
        'fid_stats': 'real statistics .npz (--make_stats): FID; with its features KID, '
                     'precision, recall, density, coverage; with its labels those per class',
        'dataset': 'the real images of --make_stats, --parzen and --representation',
        'data_path': 'their file or folder (\'\': the built-in digits)',
        'split': 'the split --make_stats reads'})
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


def output_dir(args):
    """Where the results go, checked (with --save_images' folder) before any sampling and
    made if new. An earlier scoring's results are kept: the default folder moves on to a new
    name (said), a folder the user named is refused; --overwrite replaces them."""
    out = args.output_dir
    if not out and os.path.isdir(args.ckpt) and not generators.is_saved_model(args.ckpt):
        out = os.path.join(args.ckpt, 'eval')
    elif not out:
        out = os.path.splitext(os.path.abspath(args.ckpt).rstrip(os.sep))[0] + '_eval'

    def earlier(folder):
        return [name for name in RESULTS if os.path.lexists(os.path.join(folder, name))]
    if earlier(out) and not args.overwrite:
        if args.output_dir:
            raise ConfigError('{} holds an earlier scoring ({}): pass --overwrite to replace '
                              'it, or another --output_dir'.format(out, earlier(out)[0]))
        base, number = out, 2
        while earlier(out):
            out, number = '{}_{}'.format(base, number), number + 1
        print('{} holds an earlier scoring: this one goes to {} (--overwrite replaces '
              'it)'.format(base, out))
    files.distinct(((args.output_dir and '--output_dir' or 'the results folder', out, 'into'),
                    ('--save_images', args.save_images, 'folder')))
    files.writable(os.path.join(out, RESULTS[0]))
    if args.save_images:
        files.writable(args.save_images, 'folder')
        datasets.folder.writable(args.save_images)
    return out


def evaluate(args, flags):
    scoring.check_inception(args.classifier)  # before a generator is read
    sampler = generators.Sampler(args.ckpt, args.preset, flags, args.n_classes)
    try:
        out = output_dir(args)  # once --ckpt is known to be a generator; before sampling
        scorer = scoring.Scorer(args.classifier, sampler.signature.channels, args.fid_stats,
                                args.nearest_k, args.batch)
        generated = sampler.sample(args.n, args.batch)
    finally:
        sampler.close()
    labels = sampler.labels(args.n)
    print('{}: {}'.format(args.ckpt, sampler.signature))
    pixels = images.to_uint8(generated)
    saved = {'images': pixels} if labels is None else {'images': pixels, 'labels': labels}
    npz, grid = (os.path.join(out, name) for name in RESULTS)
    with files.Together() as together:
        together.file(npz, lambda f: np.savez_compressed(f, **saved))
        together.file(grid, lambda f: f.write(images.encode_png(images.grid(pixels[:100]))))
    if args.save_images:
        datasets.folder.write(args.save_images, pixels, labels, sampler.signature.n_classes)
    try:
        results = scorer.score(generated, labels)
    finally:
        scorer.close()
    print(scoring.inception_line(args.n, results['inception_score'], results['inception_std']))
    if args.fid_stats:
        print('\n'.join(scoring.real_comparison_lines(results)))
    if args.parzen:
        results['parzen'] = parzen_score(args, generated)
    print('wrote {} ({} images, uint8{})\nwrote {} (the first 100)'.format(
        npz, args.n, '' if labels is None else ', with their labels', grid))
    if args.save_images:
        print('wrote {} ({} PNGs{})'.format(args.save_images, args.n, '' if labels is None else
                                             ', a folder per class'))
    return results


def parzen_score(args, generated):
    """Log-likelihood of --dataset's images under a Parzen window on the generated ones, in
    [0, 1], in the data's native frame: MNIST's 28x28 (d = 784, as published; generated
    digits are taken back out of the loader's 32x32 padding), other data at the generator's
    size."""
    dataset = datasets.get(args.dataset)
    size, channels = dataset.frame_size(generated.shape[1]), generated.shape[3]
    train = dataset(args.data_path, size, channels, 'train')
    test = dataset(args.data_path, size, channels, 'test') if args.parzen_protocol == 'paper' \
        else train  # the seed's test points are training images

    def read(source, indices):  # only the images the protocol uses
        return source.read(indices)[0].reshape(len(indices), -1) / 255.

    validation, scored = parzen.protocol_points(args.parzen_protocol, np.arange(len(train)),
                                                np.arange(len(test)), args.parzen_validation)
    validation, test = read(train, validation), read(test, scored)
    samples = dataset.frame(generated) * .5 + .5
    result = parzen.score(samples.reshape(len(samples), -1), test, validation)
    print('{}, protocol {}, {} validation points'.format(
        parzen.format_score(result), args.parzen_protocol, len(validation)))
    return result


def make_stats(args):
    files.writable(args.make_stats)
    dataset = datasets.get(args.dataset)
    source = dataset(args.data_path, args.image_size, 3, args.split)
    stats = scoring.real_statistics(source, args.classifier, dataset.channels, args.batch)
    files.write_atomic(args.make_stats, lambda f: np.savez(f, **stats))
    print('wrote {}: statistics of {} images of {}'.format(args.make_stats, len(source),
                                                           source.path))


def critic_features(model, cfg, phase, source, batch, prefix=None, seed=0):
    """Pooled critic features [N, F] of every image of ``source``: from the checkpoint at
    ``prefix``, or from a freshly initialised critic (seeded) when None."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(seed)
        images = tf.placeholder(tf.float32, [None, cfg['IMAGE_SIZE'], cfg['IMAGE_SIZE'],
                                             cfg['CHANNELS']])
        model.discriminator(cfg, images, phase=phase)
        if not gan_lib.critic_features():
            raise ConfigError('--representation: the {} critic marks no feature layers'.format(
                model.name))
        features = representation.pooled(gan_lib.critic_features())
        session.run(tf.global_variables_initializer())
        if prefix:
            generators.restore_graph(session, prefix)
        out = []
        for start in range(0, len(source), batch):
            pixels, _ = source.read(np.arange(start, min(start + batch, len(source))))
            out.append(session.run(features, {images: pixels / 127.5 - 1.}))
    return np.concatenate(out)


def representation_test(args, flags):
    """Linear-SVM test accuracy on the checkpoint critic's features and on an untrained one's."""
    model, cfg, phase, prefix = generators.describe(args.ckpt, args.preset, flags)
    if model.critic_sees_labels:
        raise ConfigError('--representation needs a critic that sees images alone; the {} '
                          'critic also takes labels'.format(model.name))
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
        train_x, test_x = [critic_features(model, cfg, phase, source, args.batch, source_prefix)
                           for source in (train, test)]
        accuracy, c = representation.linear_accuracy(train_x, labels[0], test_x, labels[1])
        print('representation, {} critic: {:.2%} test accuracy (linear SVM, C {:g}, {} '
              'features, {} train / {} test images)'.format(name, accuracy, c, train_x.shape[1],
                                                             len(train), len(test)))


def run(args, flags):
    if flags and (args.make_stats or not args.ckpt):
        raise ConfigError('unrecognized arguments: {} (--KEY VALUE settings describe a '
                          'checkpoint given with --ckpt)'.format(' '.join(flags)))
    if args.save_images and (args.make_stats or args.representation or not args.ckpt):
        raise ConfigError('--save_images writes the generated images: it goes with --ckpt alone '
                          '(not --make_stats or --representation)')
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
