"""A digit classifier with Inception's interface, so generated digits get real IS / FID anywhere.

It is trained on the built-in MNIST digits (4,000; the other 1,000 measure it) and frozen with
inception-2015-12-05's tensor names: 0..255 RGB images of any size at ``ExpandDims:0`` (made
grey and resized to 32x32 inside the graph), ``pool_3:0`` features [N, 1, 1, 128] and a
bias-free ``softmax/logits/MatMul``, so tflib.metrics.classifier scores with it unchanged.

    python -m tools.digit_classifier --output data/digit_classifier.pb --steps 3000

Freeze it under TF 1.15: TF 2.x writes MatMul attributes that TF 1.15 cannot read.
"""
import argparse
import sys

import numpy as np

import datasets
from tflib import files
from tflib.compat import tf

SIZE = 32
N_FEATURES = 128


def network(pixels, training_vars=None):
    """pixels [N, H, W, 3] in 0..255 -> (pool_3 [N, 1, 1, F], logits [N, 10]). ``training_vars``
    (a dict) collects the variables on the first call and reuses them after."""
    def var(name, shape, stdev):
        if name not in training_vars:
            training_vars[name] = tf.Variable(
                tf.random_normal(shape, stddev=stdev, seed=len(training_vars)), name=name)
        return training_vars[name]

    x = tf.image.resize_bilinear(tf.reduce_mean(pixels, axis=3, keepdims=True), [SIZE, SIZE])
    x = x / 127.5 - 1.
    for i, (c_in, c_out) in enumerate([(1, 32), (32, 64), (64, N_FEATURES)]):
        w = var('conv%d' % i, [3, 3, c_in, c_out], np.sqrt(2. / (9 * c_in)))
        b = var('bias%d' % i, [c_out], 0.)
        x = tf.nn.relu(tf.nn.conv2d(x, w, [1, 2, 2, 1], 'SAME') + b)
    pool = tf.reduce_mean(x, axis=[1, 2], keepdims=True, name='pool_3')
    weights = var('logits', [N_FEATURES, 10], np.sqrt(1. / N_FEATURES))
    logits = tf.matmul(tf.reshape(pool, [-1, N_FEATURES]), weights,
                       name='softmax/logits/MatMul')
    return pool, logits


def train(output, steps=1500, batch_size=64, seed=0, log=print):
    """Train, report held-out accuracy, freeze to ``output``; returns the accuracy."""
    train_set = datasets.get('mnist_builtin')('', SIZE, 3, 'train')
    test_set = datasets.get('mnist_builtin')('', SIZE, 3, 'test')
    test_images, test_labels = test_set.read(np.arange(len(test_set)))
    graph = tf.Graph()
    variables = {}
    with graph.as_default():
        tf.set_random_seed(seed)
        # The exported path first, so its ops get the interface's exact names.
        pixels = tf.placeholder(tf.float32, [None, None, None, 3], name='ExpandDims')
        _, test_logits = network(pixels, variables)
        tf.nn.softmax(test_logits, name='softmax')
        predictions = tf.argmax(test_logits, axis=1)
        images, labels = datasets.batches(train_set, batch_size, seed)()
        _, logits = network((images + 1.) * 127.5, variables)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        step_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as session:
        session.run(init)
        for step in range(1, steps + 1):
            value, _ = session.run([loss, step_op])
            if step % 500 == 0:
                log('step {}: loss {:.4f}'.format(step, value))
        predicted = session.run(predictions, {pixels: test_images.astype(np.float32)})
        accuracy = float(np.mean(predicted == test_labels))
        frozen = tf.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), ['softmax', 'pool_3'])
    frozen = tf.graph_util.extract_sub_graph(frozen, ['softmax', 'pool_3'])
    files.write_atomic(output, lambda f: f.write(frozen.SerializeToString()))
    log('held-out accuracy {:.4f} on {} digits; wrote {}'.format(accuracy, len(test_labels),
                                                                 output))
    return accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--output', default='data/digit_classifier.pb')
    parser.add_argument('--steps', type=int, default=1500)
    args = parser.parse_args(argv)
    train(args.output, args.steps)
    return 0


if __name__ == '__main__':
    sys.exit(main())
