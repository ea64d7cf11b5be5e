"""A checkpoint's generator frozen to a .pb (and converted to ONNX, and saved as a SavedModel),
checked against it.

Each of the .pb, the .onnx and the SavedModel must give the images of the checkpoint graph
built with its BatchNorm mode within ``TOLERANCE`` on the same inputs, or the export fails. Each carries the generator's signature
(zoo/generators.py).
"""
import contextlib
import importlib.util
import json
import os

import numpy as np

from tflib import files, params
from tflib.compat import SavedModelProto, tf
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


@contextlib.contextmanager
def checkpoint_graph(model, cfg, phase, prefix, batch, bn_mode, statistics):
    """The checkpoint's generator in a new graph and session: (session, inputs, images,
    signature, check inputs, the images it gives for them)."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        inputs, images, signature = generators.generator_graph(model, cfg, phase, batch,
                                                               bn_mode, statistics)
        generators.restore_graph(session, prefix)
        feed = check_inputs(signature, batch or 16)
        expected = session.run(images, {inputs[k]: v for k, v in feed.items()})
        yield session, inputs, images, signature, feed, expected


def freeze(out, ckpt, output, batch=None, bn_mode='batch', preset=None, flags=(),
           saved_model=None, saved_model_bn_mode='population'):
    """Stage the .pb (and the SavedModel, with resource variables, checked) in ``out`` (a
    tflib.files.Together), each with its BatchNorm mode; returns the frozen GraphDef, the
    signature, the check inputs and the images the checkpoint graph gives for them."""
    model, cfg, phase, prefix = generators.describe(ckpt, preset, flags)
    modes = (bn_mode, saved_model_bn_mode if saved_model else None)
    statistics = generators.population_statistics(model, cfg, phase, prefix) if \
        'population' in modes else None
    with checkpoint_graph(model, cfg, phase, prefix, batch, bn_mode, statistics) as built:
        session, signature, feed, expected = built[0], built[3], built[4], built[5]
        frozen = tf.graph_util.convert_variables_to_constants(
            session, session.graph.as_graph_def(), ['images', generators.SIGNATURE])
    if saved_model:
        with params.resource_variables(), checkpoint_graph(
                model, cfg, phase, prefix, batch, saved_model_bn_mode, statistics) as built:
            session, inputs, images, _, _, served = built
            staged = out.folder(saved_model, lambda directory: write_saved_model(
                session, inputs, images, signature, directory, saved_model))
        check_saved_model(staged, saved_model, signature, feed, served)
    out.file(output, lambda f: f.write(frozen.SerializeToString()))
    return frozen, signature, feed, expected


def run_frozen(graph_def, feed):
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name='')
    with tf.Session(graph=graph) as session:
        return session.run('images:0', {k + ':0': v for k, v in feed.items()})


def writable_saved_model(path):
    """Refuse a folder that is not new, empty or a SavedModel as this program writes it
    (which is replaced): no one's files (TensorFlow Serving's assets.extra, say) are lost."""
    files.writable(path, 'folder')
    contents = sorted(os.listdir(path)) if os.path.isdir(path) else []
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


def write_saved_model(session, inputs, images, signature, directory, path):
    """The session's generator, variables included, as a SavedModel (to become ``path``) in
    the new folder ``directory``, for TensorFlow Serving: tag ``serve``; signature
    ``serving_default`` (inputs ``z`` and ``label``?, output ``images``) and
    ``generators.FACTS_KEY``, which takes nothing and gives the Signature's numbers by name."""
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
    try:
        builder = tf.saved_model.Builder(directory)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.tag_constants.SERVING], signature_def_map=signatures,
            strip_default_attrs=True)
        builder.save()
    except tf.errors.OpError as error:
        raise ExportError('{}: cannot write the SavedModel ({})'.format(path, error.message))
    loadable_by_tf1(os.path.join(directory, 'saved_model.pb'))


def loadable_by_tf1(path):
    """Drop the attribute TF 2.x gives a resource variable's VarHandleOp (``debug_name``, its
    name again), which TF 1.15's loader refuses as unknown: a SavedModel written on TF 2.x
    then loads on Ascend's TF 1.15 too."""
    saved = SavedModelProto()
    with open(path, 'rb') as f:
        saved.ParseFromString(f.read())
    dropped = 0
    for meta_graph in saved.meta_graphs:
        for node in meta_graph.graph_def.node:
            if node.op == 'VarHandleOp' and 'debug_name' in node.attr:
                del node.attr['debug_name']
                dropped += 1
    if dropped:
        files.write_atomic(path, lambda f: f.write(saved.SerializeToString()))


def run_saved_model(path, feed):
    """The images the SavedModel at ``path`` gives for ``feed``, and its Signature."""
    graph = tf.Graph()
    with tf.Session(graph=graph) as session:
        names, signature = generators.load_saved_model(session, path)
        return session.run(names['images'], {names[k]: v for k, v in feed.items()}), signature


def onnx_available():
    return all(importlib.util.find_spec(m) for m in ('tf2onnx', 'onnxruntime'))


def to_onnx(graph_def, signature, feed, path, out):
    """Convert with tf2onnx (the signature in the model's metadata), stage it in ``out`` (a
    tflib.files.Together) and run it with onnxruntime; returns the images it gives."""
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
    out.file(path, lambda f: f.write(data))
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
           saved_model=None, saved_model_bn_mode='population'):
    """Freeze to ``output`` (and convert to ``onnx``, and save to the ``saved_model``
    folder), check each, print ATC's commands. The paths are checked before any work and the
    files land together once every check has passed, or none does."""
    files.distinct((('--output', output, 'file'), ('--onnx', onnx, 'file'),
                    ('--saved_model', saved_model, 'folder')))
    for path in (output, onnx):
        if path:
            files.writable(path)
    if saved_model:
        writable_saved_model(saved_model)
    with files.Together() as out:
        graph_def, signature, feed, expected = freeze(out, ckpt, output, batch, bn_mode,
                                                      preset, flags, saved_model,
                                                      saved_model_bn_mode)
        check(output, run_frozen(graph_def, feed), expected)
        if onnx:
            check(onnx, to_onnx(graph_def, signature, feed, onnx, out), expected)
    print('wrote {} (inputs {}, output images {}; {})'.format(
        output, ', '.join(sorted(feed)), list(expected.shape[1:]), signature))
    for path, kind in ((onnx, 'ONNX opset {}'.format(ONNX_OPSET)),
                       (saved_model, 'SavedModel, tag serve, BatchNorm {}'.format(
                           saved_model_bn_mode))):
        if path:
            print('wrote {} ({})'.format(path, kind))
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
