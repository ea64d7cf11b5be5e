"""Images per second of the project's scorer (tflib.metrics.classifier.FrozenClassifier, as
gan_eval.py runs it) on an Inception-v3-sized frozen graph, as a fraction of this machine's
matmul peak, at several batch sizes side by side.

    python bench/score.py [--batches 1,10,100] [--images 100] [--image_size 32]

The graph is Keras' InceptionV3 (299x299, include_top=False: 94 convolutions, 21.8M weights)
with random weights, written in tf.nn ops because TF 2.x's Keras 3 builds no TF1 graphs, under
inception-2015-12-05's tensor names (``ExpandDims:0`` float 0..255 resized in the graph,
``pool_3:0`` [N, 1, 1, 2048], ``softmax/logits/MatMul`` to 1008 classes). FLOPs per image are
tf.profiler's float ops of that frozen graph at batch 1 (99.7% convolutions, then pooling, the
logits matmul and the input scaling); batch norm, ReLU and the resize are not counted, so the
fraction is of the work the peak applies to.
"""
import argparse
import functools
import os
import tempfile

import numpy as np

import machine
from tflib.compat import tf
from tflib.metrics import classifier

SIZE = 299


def inception_v3(images, rng):
    """Keras' InceptionV3 feature extractor (keras/applications/inception_v3.py) on 0..255
    images, BN in inference mode as a frozen graph has it; features [N, 1, 1, 2048]."""
    def conv(x, filters, kh, kw, stride=1, padding='SAME'):
        fan_in = kh * kw * int(x.shape[-1])
        kernel = (rng.randn(kh, kw, int(x.shape[-1]), filters) * np.sqrt(2. / fan_in))
        x = tf.nn.conv2d(x, kernel.astype(np.float32), [1, stride, stride, 1], padding)
        zeros, ones = np.zeros(filters, np.float32), np.ones(filters, np.float32)
        x, _, _ = tf.nn.fused_batch_norm(x, ones, zeros, mean=zeros, variance=ones,
                                         epsilon=1e-3, is_training=False)
        return tf.nn.relu(x)

    def pool(x, kind, stride=1, padding='SAME'):
        return kind(x, [1, 3, 3, 1], [1, stride, stride, 1], padding)

    def concat(branches):
        return tf.concat(branches, 3)

    x = tf.image.resize_bilinear(images, [SIZE, SIZE])
    x = (x - 128.) * (1. / 128)
    x = conv(x, 32, 3, 3, 2, 'VALID')
    x = conv(x, 32, 3, 3, padding='VALID')
    x = pool(conv(x, 64, 3, 3), tf.nn.max_pool, 2, 'VALID')
    x = conv(x, 80, 1, 1, padding='VALID')
    x = pool(conv(x, 192, 3, 3, padding='VALID'), tf.nn.max_pool, 2, 'VALID')
    for pool_filters in (32, 64, 64):  # mixed0-2: 35x35
        x = concat([conv(x, 64, 1, 1),
                    conv(conv(x, 48, 1, 1), 64, 5, 5),
                    conv(conv(conv(x, 64, 1, 1), 96, 3, 3), 96, 3, 3),
                    conv(pool(x, tf.nn.avg_pool), pool_filters, 1, 1)])
    x = concat([conv(x, 384, 3, 3, 2, 'VALID'),  # mixed3: 17x17
                conv(conv(conv(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 2, 'VALID'),
                pool(x, tf.nn.max_pool, 2, 'VALID')])
    for c in (128, 160, 160, 192):  # mixed4-7
        x = concat([conv(x, 192, 1, 1),
                    conv(conv(conv(x, c, 1, 1), c, 1, 7), 192, 7, 1),
                    conv(conv(conv(conv(conv(x, c, 1, 1), c, 7, 1), c, 1, 7), c, 7, 1),
                         192, 1, 7),
                    conv(pool(x, tf.nn.avg_pool), 192, 1, 1)])
    x = concat([conv(conv(x, 192, 1, 1), 320, 3, 3, 2, 'VALID'),  # mixed8: 8x8
                conv(conv(conv(conv(x, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3, 2,
                     'VALID'),
                pool(x, tf.nn.max_pool, 2, 'VALID')])
    for _ in range(2):  # mixed9-10
        branch3x3 = conv(x, 384, 1, 1)
        branch3x3dbl = conv(conv(x, 448, 1, 1), 384, 3, 3)
        x = concat([conv(x, 320, 1, 1),
                    concat([conv(branch3x3, 384, 1, 3), conv(branch3x3, 384, 3, 1)]),
                    concat([conv(branch3x3dbl, 384, 1, 3), conv(branch3x3dbl, 384, 3, 1)]),
                    conv(pool(x, tf.nn.avg_pool), 192, 1, 1)])
    return tf.nn.avg_pool(x, [1, 8, 8, 1], [1, 1, 1, 1], 'VALID', name='pool_3')


def write_inception(path, n_classes=1008, seed=0):
    """The random-weight stand-in as a frozen .pb; its FLOPs per image (tf.profiler)."""
    rng = np.random.RandomState(seed)
    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [1, None, None, 3], name='ExpandDims')
        pool = inception_v3(images, rng)
        weights = (rng.randn(2048, n_classes) / np.sqrt(2048)).astype(np.float32)
        logits = tf.matmul(tf.reshape(pool, [1, 2048]), weights, name='softmax/logits/MatMul')
        tf.nn.softmax(logits, name='softmax')
        options = tf.profiler.ProfileOptionBuilder(
            tf.profiler.ProfileOptionBuilder.float_operation()).with_empty_output().build()
        flops = tf.profiler.profile(graph, options=options).total_float_ops
    with open(path, 'wb') as f:
        f.write(graph.as_graph_def().SerializeToString())
    return flops


def settings(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batches', default='1,10,100',
                        help='comma-separated FrozenClassifier batch sizes (gan_eval: 100)')
    parser.add_argument('--images', type=int, default=100,
                        help='images per timed run() call (rounded up to whole batches)')
    parser.add_argument('--repeats', type=int, default=3,
                        help='rounds, each timing the matmul peak and every batch size once')
    parser.add_argument('--image_size', type=int, default=32,
                        help='side of the generated images fed in (CIFAR: 32)')
    return parser.parse_args(argv)


def main(argv=None):
    args = settings(argv)
    batches = [int(b) for b in args.batches.split(',')]
    sizes = {batch: batch * -(-args.images // batch) for batch in batches}
    generated = np.random.RandomState(0).uniform(
        -1, 1, (max(sizes.values()), args.image_size, args.image_size, 3)).astype(np.float32)
    pixels = classifier.to_pixels(generated)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'inception.pb')
        flops = write_inception(path)
        models = {batch: classifier.FrozenClassifier(path, batch_size=batch)
                  for batch in batches}
    for batch, model in models.items():
        model.run(pixels[:batch])  # warm-up: oneDNN primitives for this shape
    peaks, times = [], {batch: [] for batch in batches}
    for _ in range(args.repeats):  # rounds, so every batch size sees the same machine
        peaks.append(machine.matmul_peak_gflops())
        for batch, model in models.items():
            times[batch].append(machine.timed(functools.partial(model.run,
                                                                pixels[:sizes[batch]])))
    peak = max(peaks)
    print('Inception-v3 stand-in: {:.2f} GFLOP per image; matmul peak {:.1f} GFLOP/s'.format(
        flops / 1e9, peak))
    rates = {batch: sizes[batch] / machine.median(times[batch]) for batch in batches}
    for batch, rate in rates.items():
        print('batch {:>4}: {:7.2f} img/s, {:6.1f} GFLOP/s ({:.1%} of peak)'.format(
            batch, rate, rate * flops / 1e9, rate * flops / 1e9 / peak))
    best = max(rates, key=rates.get)
    convert = machine.median([machine.timed(functools.partial(classifier.to_pixels, generated))
                              for _ in range(args.repeats)]) / len(generated)
    print('to_pixels (NumPy, outside the graph): {:.3f} ms/img, {:.2%} of scoring at batch {}'
          .format(1e3 * convert, convert * rates[best], best))
    machine.result(images_per_sec=rates[best], gflops_per_image=flops / 1e9,
                   gflops=rates[best] * flops / 1e9, peak_gflops=peak,
                   peak_fraction=rates[best] * flops / 1e9 / peak, batch=best,
                   max_rss_gib=machine.max_rss_gib())

if __name__ == '__main__':
    main()
