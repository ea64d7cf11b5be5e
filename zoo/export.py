"""A checkpoint's generator frozen to a .pb (and converted to ONNX, and saved as a SavedModel),
checked against it.

The checkpoint graph, the .pb, the .onnx and the SavedModel must agree within ``TOLERANCE`` on
the same inputs, or the export fails. Each carries the generator's signature
(zoo/generators.py).
"""
import importlib.util
import json
import os

import numpy as np

from tflib import files
from tflib.compat import tf
from zoo import generators

TOLERANCE = 1e-4
ONNX_OPSET = 13
SAVED_MODEL_FILES = {'saved_model.pb', 'variables', 'assets'}  # what the Builder writes


class ExportError(RuntimeError):
    """An export that cannot be made or does not reproduce the checkpoint."""


def check_inputs(signature, n, seed=0):
    """Fixed noise, and labels cycling through the classes, for the checks."""
    feed = {'z': np.random.RandomState(seed).randn(n, signature.z_dim).astype(np.float32)}
    if signature.conditional:
        feed['label'] = (np.arange(n) % signature.n_classes).astype(np.int32)
    return feed


def freeze(ckpt, output, batch=None, bn_mode='batch', preset=None, flags=(), saved_model=None):
    """Write the .pb (and the SavedModel); returns the frozen GraphDef, the signature, the
    check inputs and the images the checkpoint graph gives for them."""
    model, cfg, phase, prefix = generators.describe(ckpt, preset, flags)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        inputs, images, signature = generators.generator_graph(model, cfg, phase, batch,
                                                               bn_mode)
        generators.restore_graph(session, prefix)
        feed = check_inputs(signature, batch or 16)
        expected = session.run(images, {inputs[k]: v for k, v in feed.items()})
        frozen = tf.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), ['images', generators.SIGNATURE])
        if saved_model:
            write_saved_model(session, inputs, images, signature, saved_model,
                              lambda directory: check_saved_model(directory, saved_model,
                                                                  signature, feed, expected))
    files.write_atomic(output, lambda f: f.write(frozen.SerializeToString()))
    return frozen, signature, feed, expected


def run_frozen(graph_def, feed):
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name='')
    with tf.Session(graph=graph) as session:
        return session.run('images:0', {k + ':0': v for k, v in feed.items()})


def writable_saved_model(path):
    """Refuse a directory that is not new, empty or a SavedModel as this program writes it
    (which is replaced): no one's files (TensorFlow Serving's assets.extra, say) are lost."""
    if not os.path.lexists(path):
        return
    if not os.path.isdir(path):
        raise ExportError('--saved_model {}: exists and is not a directory'.format(path))
    contents = sorted(os.listdir(path))
    others = [name for name in contents if name not in SAVED_MODEL_FILES]
    if others or (contents and not generators.is_saved_model(path)):
        raise ExportError('--saved_model {}: not a SavedModel written by freeze_graph.py (it '
                          'holds {}); give a new directory'.format(path, (others or contents)[0]))


def check_saved_model(directory, path, signature, feed, expected):
    """Fail unless the SavedModel in ``directory`` (to become ``path``) gives the checkpoint's
    images and Signature."""
    images, saved_signature = run_saved_model(directory, feed)
    if saved_signature != signature:
        raise ExportError('{}: carries {}, not {}'.format(path, saved_signature, signature))
    check(path, images, expected)


def write_saved_model(session, inputs, images, signature, path, verify):
    """The session's generator, variables included, as a SavedModel for TensorFlow Serving:
    tag ``serve``; signature ``serving_default`` (inputs ``z`` and ``label``?, output
    ``images``) and ``generators.FACTS_KEY``, which takes nothing and gives the Signature's
    numbers by name. Written beside ``path`` and renamed into place once ``verify(directory)``
    has passed, so a failed export replaces nothing."""
    info = tf.saved_model.utils.build_tensor_info
    facts = {name: tf.constant(value, name='signature_' + name) for name, value in
             zip(generators.FACTS, generators.signature_vector(signature))}
    predict = tf.saved_model.signature_constants.PREDICT_METHOD_NAME
    signatures = {
        tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            tf.saved_model.signature_def_utils.build_signature_def(
                {k: info(v) for k, v in inputs.items()}, {'images': info(images)}, predict),
        generators.FACTS_KEY: tf.saved_model.signature_def_utils.build_signature_def(
            {}, {k: info(v) for k, v in facts.items()}, predict)}

    def write(directory):
        try:
            builder = tf.saved_model.Builder(directory)
            builder.add_meta_graph_and_variables(
                session, [tf.saved_model.tag_constants.SERVING], signature_def_map=signatures,
                strip_default_attrs=True)
            builder.save()
        except tf.errors.OpError as error:
            raise ExportError('{}: cannot write the SavedModel ({})'.format(path,
                                                                          error.message))
        verify(directory)
    files.write_dir_atomic(path, write)


def run_saved_model(path, feed):
    """The images the SavedModel at ``path`` gives for ``feed``, and its Signature."""
    graph = tf.Graph()
    with tf.Session(graph=graph) as session:
        names, signature = generators.load_saved_model(session, path)
        return session.run(names['images'], {names[k]: v for k, v in feed.items()}), signature


def onnx_available():
    return all(importlib.util.find_spec(m) for m in ('tf2onnx', 'onnxruntime'))


def to_onnx(graph_def, signature, feed, path):
    """Convert with tf2onnx (the signature in the model's metadata) and run with onnxruntime;
    returns the images it gives."""
    try:
        import onnxruntime
        import tf2onnx
    except ImportError as error:
        raise ExportError('--onnx needs tf2onnx and onnxruntime (pip install -r '
                          'requirements-onnx.txt): {}'.format(error))
    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=[k + ':0' for k in sorted(feed)], output_names=['images:0'],
        opset=ONNX_OPSET)
    entry = model.metadata_props.add()
    entry.key, entry.value = generators.ONNX_SIGNATURE, json.dumps(signature.as_dict())
    data = model.SerializeToString()
    files.write_atomic(path, lambda f: f.write(data))
    session = onnxruntime.InferenceSession(data, providers=['CPUExecutionProvider'])
    return session.run(['images:0'], {k + ':0': v for k, v in feed.items()})[0]


def atc_commands(path, signature, batch):
    n = batch or 100  # the Ascend port's batch; batch-statistics BN needs a real batch
    shapes = 'z:{},{}'.format(n, signature.z_dim)
    if signature.conditional:
        shapes += ';label:{}'.format(n)
    stem = path[:-3] if path.endswith('.pb') else path
    return ['atc --model={} --framework=3 --input_shape="{}" --out_nodes="images:0" '
            '--output={}_{} --soc_version={}'.format(path, shapes, stem, soc.lower(), soc)
            for soc in ('Ascend910', 'Ascend310')]


def check(name, got, expected):
    difference = float(np.abs(got - expected).max())
    print('{:<11} max |difference| from the checkpoint: {:.2e}'.format(name, difference))
    if not difference <= TOLERANCE:
        raise ExportError('{} does not reproduce the checkpoint (max difference {:.2e} > '
                          '{:.0e})'.format(name, difference, TOLERANCE))


def export(ckpt, output, onnx=None, batch=None, bn_mode='batch', preset=None, flags=(),
           saved_model=None):
    """Freeze to ``output`` (and convert to ``onnx``, and save to the ``saved_model``
    directory), check each, print ATC's commands."""
    if saved_model:
        writable_saved_model(saved_model)
    graph_def, signature, feed, expected = freeze(ckpt, output, batch, bn_mode, preset, flags,
                                                  saved_model)
    print('wrote {} (inputs {}, output images {}; {})'.format(
        output, ', '.join(sorted(feed)), list(expected.shape[1:]), signature))
    check(output, run_frozen(graph_def, feed), expected)
    if onnx:
        check(onnx, to_onnx(graph_def, signature, feed, onnx), expected)
    if batch is None:
        print('(dynamic batch: pass --batch N for ATC)')
    for command in atc_commands(output, signature, batch):
        print(command)


def export_run(out):
    """A finished run's generator to ``out``/generator.pb and, where tf2onnx is installed,
    generator.onnx."""
    pb = os.path.join(out, 'generator.pb')
    onnx = pb[:-3] + '.onnx' if onnx_available() else None
    if onnx is None:
        print('(no ONNX export: pip install -r requirements-onnx.txt)')
    export(out, pb, onnx)
