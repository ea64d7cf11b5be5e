"""A frozen classifier graph (.pb) loaded by tensor names, scoring images in batches.

The defaults are inception-2015-12-05's ``classify_image_graph_def.pb``: images go in at
``ExpandDims:0`` (float, 0..255, any size; the graph resizes them itself), features come from
``pool_3:0`` and the logits are pool_3 times the weight matrix of ``softmax/logits/MatMul``,
as improved_wgan_training's Inception Score computes them. The input is re-mapped to a batched
placeholder, so every run call scores a whole batch (the Ascend port scored at batch size 1).
"""
import os

import numpy as np

from tflib import graph_guard
from tflib.compat import tf
from tflib.images import to_uint8
from tflib.metrics.scores import softmax

INCEPTION = {'input': 'ExpandDims:0', 'features': 'pool_3:0',
             'logits': 'softmax/logits/MatMul'}


class ScorerError(ValueError):
    """The classifier graph file is missing, is not a graph, or lacks the named tensors."""


def to_pixels(images):
    """Generator images in [-1, 1] (NHWC) -> the classifier's 0..255 RGB: the saved pixels
    (tflib.images.to_uint8) as floats; grey images get three channels."""
    pixels = to_uint8(images).astype(np.float32)
    return np.repeat(pixels, 3, axis=3) if pixels.shape[3] == 1 else pixels


def read_graph_def(path, what='classifier graph'):
    """The GraphDef of a frozen .pb, or a ScorerError naming the file."""
    if not os.path.isfile(path):
        raise ScorerError('{}: no such {} (a frozen .pb)'.format(path, what))
    graph_def = tf.GraphDef()
    try:
        with open(path, 'rb') as f:
            graph_def.ParseFromString(f.read())
    except Exception as error:  # protobuf's DecodeError and friends
        raise ScorerError('{}: not a frozen TensorFlow graph ({})'.format(
            path, type(error).__name__))
    if not graph_def.node:  # older protobufs parse some garbage as an empty message
        raise ScorerError('{}: not a frozen TensorFlow graph (no nodes)'.format(path))
    return graph_def


class FrozenClassifier(object):

    def __init__(self, path, input=INCEPTION['input'], features=INCEPTION['features'],
                 logits=INCEPTION['logits'], batch_size=100):
        graph_def = read_graph_def(path)
        graph_guard.check(graph_def, [features, logits], graph_guard.TENSOR_MATH, path,
                          fed=[input])
        self.path, self.batch_size = path, batch_size
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, [None, None, None, 3], name='images')
            try:
                pool, matmul = tf.import_graph_def(
                    graph_def, input_map={input: self.images}, name='classifier',
                    return_elements=[features, logits])
            except (ValueError, KeyError) as error:
                raise ScorerError('{}: the graph lacks {} ({})'.format(
                    path, ', '.join((input, features, logits)), str(error).splitlines()[0]))
            self.features = tf.reshape(pool, [-1, int(pool.shape[-1])])
            self.logits = tf.matmul(self.features, matmul.inputs[1])
        self.session = tf.Session(graph=self.graph)

    def run(self, pixels):
        """(features [N, F], class probabilities [N, K] in float64) of 0..255 RGB images
        [N, H, W, 3]."""
        features, logits = [], []
        for start in range(0, len(pixels), self.batch_size):
            f, l = self.session.run([self.features, self.logits],
                                    {self.images: pixels[start:start + self.batch_size]})
            features.append(f)
            logits.append(l)
        return np.concatenate(features), softmax(np.concatenate(logits))

    def close(self):
        self.session.close()
