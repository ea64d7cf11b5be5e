"""Files a user is handed are data: a CIFAR-10 batch whose pickle would run code, and generator
or classifier graphs (.pb, SavedModel) whose outputs depend on file or Python ops, are refused
with one line naming the file and what it would have run; nothing of them runs."""
import os
import pickle

import numpy as np

import gan_eval
import gan_train
from conftest import new_session, write_cifar, write_standin_classifier
from tflib import graph_guard
from tflib.compat import SavedModelProto, tf
from zoo import generators

TINY = ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '2', '--N_CRITIC', '1', '--ITERS', '1',
        '--LOG_STEP', '1', '--device', 'cpu', '--EXPORT_AT_END', 'false']


class Payload(object):
    """Unpickled, it would create ``path`` (builtins.open(path, 'w'))."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def test_a_cifar_batch_that_would_run_code_is_refused(tmp_path, capsys):
    write_cifar(tmp_path / 'cifar', n=4)
    touched = tmp_path / 'touched'
    path = tmp_path / 'cifar' / 'data_batch_1'
    with open(str(path), 'rb') as f:
        batch = pickle.load(f, encoding='bytes')
    batch[b'labels'] = Payload(str(touched))
    with open(str(path), 'wb') as f:
        pickle.dump(batch, f, protocol=2)
    code = gan_train.main(['--dataset', 'cifar10', '--data_path', str(tmp_path / 'cifar'),
                           '--output_path', str(tmp_path / 'run')] + TINY)
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1, err
    assert 'data_batch_1: refused: the pickle would build ' in err and '.open,' in err
    assert not touched.exists()
    # The real batches' format (protocol 2, bytes keys, numpy arrays) still loads.
    write_cifar(tmp_path / 'clean', n=4)
    assert gan_train.main(['--dataset', 'cifar10', '--data_path', str(tmp_path / 'clean'),
                           '--output_path', str(tmp_path / 'clean_run')] + TINY) == 0


def hostile_generator(graph, target):
    """A generator interface (z -> images, signature) whose images depend on writing
    ``target`` and on reading this test file."""
    with graph.as_default():
        z = tf.placeholder(tf.float32, [None, 4], name='z')
        written = tf.io.write_file(target, 'owned')
        read = tf.strings.length(tf.io.read_file(os.path.abspath(__file__)))
        with tf.control_dependencies([written]):
            images = tf.reshape(tf.tanh(z), [-1, 2, 2, 1]) + 0. * tf.cast(read, tf.float32)
        tf.constant(np.array([4, 0, 2, 1], np.int32), name=generators.SIGNATURE)
        return {'z': z}, tf.identity(images, name='images')


def test_a_generator_pb_with_file_ops_is_refused(tmp_path, capsys):
    target, pb = tmp_path / 'written', tmp_path / 'G.pb'
    graph = tf.Graph()
    hostile_generator(graph, str(target))
    with open(str(pb), 'wb') as f:
        f.write(graph.as_graph_def().SerializeToString())
    assert gan_eval.main(['--ckpt', str(pb), '--n', '4']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'G.pb: refused: running it would execute' in err, err
    assert 'ReadFile' in err and 'WriteFile' in err
    assert not target.exists()


def test_a_saved_model_that_would_write_files_is_refused(tmp_path, capsys):
    """In its serving graph, in the init op TF's loader runs, or behind a serving input the
    sampler does not feed; and a SavedModel with variables but no saver (TF's loader would
    restore them by an op of its own)."""
    for where in ('serving', 'init', 'input'):
        target, path = tmp_path / (where + '_written'), tmp_path / where
        with new_session() as session:
            graph = session.graph
            init = None
            if where == 'serving':
                inputs, images = hostile_generator(graph, str(target))
            else:
                z = tf.placeholder(tf.float32, [None, 4], name='z')
                inputs, images = {'z': z}, tf.reshape(tf.tanh(z), [-1, 2, 2, 1])
                if where == 'init':
                    init = tf.io.write_file(str(target), 'owned')
                else:
                    with tf.control_dependencies([tf.io.write_file(str(target), 'owned')]):
                        inputs['evil'] = tf.identity(0., name='evil')
                    images = images + inputs['evil']
            info = tf.saved_model.utils.build_tensor_info
            serving = tf.saved_model.signature_def_utils.build_signature_def(
                {k: info(v) for k, v in inputs.items()}, {'images': info(images)})
            builder = tf.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                session, [tf.saved_model.tag_constants.SERVING], main_op=init,
                signature_def_map={'serving_default': serving})
            builder.save()
        assert gan_eval.main(['--ckpt', str(path), '--n', '4']) == 2
        err = capsys.readouterr().err
        assert err.count('\n') == 1 and 'refused' in err and 'WriteFile' in err, err
        assert not target.exists(), where
    with new_session() as session:
        weights = tf.Variable(tf.ones([4]), name='W')
        z = tf.placeholder(tf.float32, [None, 4], name='z')
        images = tf.reshape(z * weights, [-1, 2, 2, 1])
        session.run(weights.initializer)
        info = tf.saved_model.utils.build_tensor_info
        builder = tf.saved_model.Builder(str(tmp_path / 'saverless'))
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.tag_constants.SERVING], signature_def_map={
                'serving_default': tf.saved_model.signature_def_utils.build_signature_def(
                    {'z': info(z)}, {'images': info(images)})})
        builder.save()
    saved_model = tmp_path / 'saverless' / 'saved_model.pb'
    saved = SavedModelProto()
    saved.ParseFromString(saved_model.read_bytes())
    saved.meta_graphs[0].ClearField('saver_def')
    saved_model.write_bytes(saved.SerializeToString())
    assert gan_eval.main(['--ckpt', str(tmp_path / 'saverless'), '--n', '4']) == 2
    assert 'refused: it has variables but no saver' in capsys.readouterr().err


def test_a_classifier_that_would_run_other_ops_is_refused(tmp_path):
    """The frozen classifier's ops between its input and its outputs are checked; ops
    upstream of the input (the real Inception graph's DecodeJpeg) never run and are not."""
    clean = write_standin_classifier(tmp_path / 'clean.pb')
    graph_def = tf.GraphDef()
    with open(clean, 'rb') as f:
        graph_def.ParseFromString(f.read())
    graph_guard.check(graph_def, ['pool_3', 'softmax/logits/MatMul'],
                      graph_guard.TENSOR_MATH, clean, fed=['ExpandDims:0'])
    outputs = ['pool_3', 'softmax/logits/MatMul']
    for leak in ('data', 'control edge into the fed input'):
        with tf.Graph().as_default() as graph:
            upstream = tf.io.decode_jpeg(tf.io.read_file('/nonexistent.jpg'))  # never runs
            if leak == 'data':
                images = tf.identity(tf.cast(upstream, tf.float32)[None], name='ExpandDims')
                read = tf.io.read_file(os.path.abspath(__file__))
                extra = tf.cast(tf.strings.length(read), tf.float32)
            else:  # ExpandDims is fed, but its control input still runs
                with tf.control_dependencies([tf.io.write_file('/tmp/x', 'x')]):
                    images = tf.identity(tf.cast(upstream, tf.float32)[None],
                                         name='ExpandDims')
                extra = 0.
            pool = tf.reshape(tf.reduce_mean(images), [1, 1, 1, 1]) + 0. * extra
            with tf.control_dependencies([images.op] if leak != 'data' else []):
                pool = tf.identity(pool, name='pool_3')
            tf.matmul(tf.reshape(pool, [1, 1]), tf.ones([1, 10]), name='softmax/logits/MatMul')
        graph_def = graph.as_graph_def()
        runs = set(graph_guard.ops_that_run(graph_def, outputs, ['ExpandDims:0']).values())
        assert ('DecodeJpeg' in runs) == (leak != 'data'), (leak, runs)
        try:
            graph_guard.check(graph_def, outputs, graph_guard.TENSOR_MATH, 'C.pb',
                              fed=['ExpandDims:0'])
        except graph_guard.UnsafeGraph as error:
            assert 'C.pb: refused' in str(error) and 'File' in str(error), error
        else:
            raise AssertionError('a classifier reading or writing files was not refused')


def test_functions_a_graph_calls_are_checked_whole():
    with tf.Graph().as_default() as graph:
        @tf.function
        def hidden(x):
            tf.io.write_file('/tmp/never', 'x')
            return x + 1.
        x = tf.placeholder(tf.float32, [2], name='x')
        tf.identity(hidden(x), name='y')
    found = set(graph_guard.ops_that_run(graph.as_graph_def(), ['y']).values())
    assert 'WriteFile' in found
