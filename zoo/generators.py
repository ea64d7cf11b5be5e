"""Generators rebuilt from a checkpoint alone, and sampled from checkpoints, .pb, .onnx and
SavedModels.

Our runs carry their model and settings in ``meta.json``; a bare checkpoint (the authors'
``wgan-gp.model``) is described by a preset and ``--KEY VALUE`` overrides instead. The inference
graph's interface is fixed: inputs ``z`` float32 [N, Z_DIM] and, for conditional models,
``label`` int32 [N]; output ``images`` float32 NHWC in [-1, 1]; and a constant
``signature``, int32 [z_dim, n_classes (0: unconditional), image_size, channels], that stays in
the frozen .pb (the .onnx carries it as metadata, ``ONNX_SIGNATURE``; a SavedModel as the
outputs of its signature ``FACTS_KEY``, beside ``serving_default``).
"""
import contextlib
import json
import os

import numpy as np

import configs
import models
from tflib import checkpoints, graph_guard, layout, params
from tflib.compat import SavedModelProto, tf
from tflib.config import ConfigError, parse_flags
from tflib.metrics.classifier import ScorerError, read_graph_def
from tflib.ops import population

BN_MODES = ('batch', 'moving', 'population')
POPULATION_BATCHES = 50  # batches of 100 that population statistics are estimated from
SIGNATURE = 'signature'
ONNX_SIGNATURE = 'ganzoo.signature'
FACTS_KEY = 'signature'
FACTS = ('z_dim', 'n_classes', 'image_size', 'channels')  # the order of signature_vector
# The op types a generator file may run: every preset's frozen generator on TF 1.15 and 2.x
# (test_freeze_graph.py rebuilds the union; a PGAN exported inside a fade-in computes its alpha
# from the step with Cast, Maximum and Minimum), and the older spellings of the same math.
GENERATOR_OPS = frozenset([
    'Add', 'AddV2', 'BiasAdd', 'Cast', 'ConcatV2', 'Const', 'Conv2D', 'Conv2DBackpropInput',
    'DepthToSpace', 'Erf', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'Identity',
    'LeakyRelu', 'MatMul', 'Maximum', 'Mean', 'Minimum', 'Mul', 'NoOp', 'OneHot', 'Pack',
    'Placeholder', 'RealDiv', 'Relu', 'Reshape', 'Rsqrt', 'Shape', 'Sigmoid', 'Square',
    'SquaredDifference', 'StopGradient', 'StridedSlice', 'Sub', 'Tanh', 'Tile', 'Transpose'])
# A SavedModel's restore op (its variables, from its own files, the prefix fed by the loader),
# and what its signatures may read besides GENERATOR_OPS: the variables.
RESTORE_OPS = frozenset(['Assign', 'AssignVariableOp', 'Const', 'Identity', 'NoOp',
                         'RestoreV2', 'VarHandleOp', 'VariableV2'])
VARIABLE_OPS = frozenset(['ReadVariableOp', 'VarHandleOp', 'VariableV2'])
# What TF's loader runs after the restore: these collections' ops and this signature's outputs.
INIT_COLLECTIONS = ('saved_model_main_op', 'legacy_init_op')
INIT_SIGNATURE = '__saved_model_init_op'
N_SAMPLES = 100  # a training run's sample grid: 10x10, labels cycling through the classes


def find_meta(path):
    """meta.json of the run a checkpoint path belongs to (the run directory, or the prefix's
    folder or its parent), or None."""
    candidates = [path] if os.path.isdir(path) else []
    folder = os.path.dirname(os.path.abspath(path))
    candidates += [folder, os.path.dirname(folder)]
    for directory in candidates:
        meta = checkpoints.read_meta(directory)
        if meta:
            return meta
    return None


def describe(ckpt, preset=None, flags=()):
    """(Model, model config, phase, checkpoint prefix) of checkpoint ``ckpt``; the phase is the
    one the checkpoint was written in.

    ``flags`` (``--KEY VALUE``) may change the settings that do not shape the network."""
    prefix = checkpoints.resolve(ckpt)
    meta = find_meta(ckpt)
    if meta and not preset:
        model = models.get(meta['model'])
        saved = meta['config']
    elif preset:
        model_name, saved = configs.load(preset)
        model = models.get(model_name)
        saved = {k: v for k, v in saved.items() if k in model.defaults}
    else:
        raise ConfigError('{}: no meta.json beside this checkpoint; describe its model with '
                          '--preset NAME (and --KEY VALUE overrides)'.format(ckpt))
    overrides = parse_flags(list(flags), model.defaults, model.flag_aliases)
    if meta and not preset:
        clashes = sorted(k for k in overrides if k in model.architecture and
                         overrides[k] != saved.get(k))
        if clashes:
            raise ConfigError('{}: the checkpoint fixes {}'.format(ckpt, ', '.join(clashes)))
    values = dict(saved, **overrides)
    values['data_format'] = 'NHWC'  # the exported graph's layout; checkpoints fit both
    cfg = model.config(**{k: v for k, v in values.items() if k in model.defaults})
    if cfg['G_ema'] and not any(key.startswith(models.AVERAGE + '.')
                                for key in checkpoints.keys(prefix)):
        print('{}: no generator average ({}.*) in it; its generator is used'.format(
            prefix, models.AVERAGE))
        cfg = dict(cfg, G_ema=0.)
    step = checkpoints.step_of(prefix)
    return model, cfg, model.phase_at(cfg, cfg['ITERS'] if step is None else step), prefix


def generator_graph(model, cfg, phase, batch=None, bn_mode='batch', statistics=None):
    """The inference graph in the current default graph: ({'z', 'label'?} placeholders, the
    ``images`` output, the Signature, also a constant ``signature``). ``bn_mode`` 'batch'
    normalises with batch statistics, as the authors' code and the Ascend port's .pb do;
    'moving' with the moving statistics; 'population' with ``statistics``
    (``population_statistics``), so that each image depends on its own inputs alone."""
    if bn_mode not in BN_MODES:
        raise ConfigError('--bn_mode must be one of {}, got {!r}'.format(BN_MODES, bn_mode))
    signature = model.signature(cfg)
    inputs = {'z': tf.placeholder(tf.float32, [batch, signature.z_dim], name='z')}
    if signature.conditional:
        inputs['label'] = tf.placeholder(tf.int32, [batch], name='label')
    with layout.using(cfg['data_format']), population.fixed(statistics) if \
            bn_mode == 'population' else contextlib.nullcontext():
        images = model.generator(cfg, batch, labels=inputs.get('label'), noise=inputs['z'],
                                 is_training=bn_mode != 'moving', phase=phase)
    if bn_mode == 'moving' and cfg['G_ema'] and params.params_with_name('.moving_mean'):
        print('warning: --bn_mode moving normalises the generator average with the trained '
              'generator\'s moving statistics; --bn_mode population measures its own')
    signature = model.signature(cfg, images)
    tf.constant(signature_vector(signature), name=SIGNATURE)
    return inputs, tf.identity(images, name='images'), signature


def population_statistics(model, cfg, phase, prefix, batches=POPULATION_BATCHES, size=100,
                          seed=0):
    """The population statistics of the checkpoint generator's BatchNorm layers (``{}``
    without any), from ``batches`` batches of ``size`` samples as the zoo samples them
    (labels cycling through the classes)."""
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session, \
            population.recording() as moments:
        inputs, _, signature = generator_graph(model, cfg, phase, size)
        restore_graph(session, prefix)
        rng, measured = np.random.RandomState(seed), []
        for _ in range(batches if moments else 0):
            feed = {inputs['z']: rng.randn(size, signature.z_dim).astype(np.float32)}
            if signature.conditional:
                feed[inputs['label']] = np.arange(size, dtype=np.int32) % signature.n_classes
            measured.append(session.run(moments, feed))
    return population.estimate(measured) if measured else {}


def sample_op(gan, signature, seed=None):
    """N_SAMPLES images, labels cycling through the classes, and their noise: fixed for the
    grids (``seed``); for scores a placeholder fed with the host's draws, as a device graph
    wants its random inputs (tf.random_normal has no AI Core kernel on Ascend)."""
    if seed is None:
        noise = tf.placeholder(tf.float32, [N_SAMPLES, signature.z_dim], name='score_noise')
    else:
        noise = tf.constant(np.random.RandomState(seed).randn(
            N_SAMPLES, signature.z_dim).astype('float32'))
    labels = None
    if signature.conditional:
        labels = np.arange(N_SAMPLES, dtype=np.int32) % signature.n_classes
    return gan.generator(N_SAMPLES, labels=None if labels is None else tf.constant(labels),
                         noise=noise), noise, labels


def signature_vector(signature):
    return np.array([signature.z_dim, signature.n_classes or 0, signature.image_size,
                     signature.channels], np.int32)


def from_vector(vector):
    z_dim, n_classes, image_size, channels = [int(v) for v in vector]
    return models.Signature(z_dim, n_classes or None, image_size, channels)


def restore_graph(session, prefix):
    """Load every variable of the session's graph, a generator (PGAN's: also the step its
    fade-in reads) or a critic; each must be in the checkpoint with its shape."""
    report = checkpoints.restore(session, prefix, tf.global_variables())
    problems = report['missing'] + report['mismatched']
    if problems:
        raise checkpoints.CheckpointError('{}: does not fit this network ({}{})'.format(
            prefix, ', '.join(problems[:3]), ', ...' if len(problems) > 3 else ''))


def critic_scores(ckpt, image_sets, batch=100):
    """The critic of checkpoint ``ckpt`` on each of ``image_sets`` (NHWC in [-1, 1], the
    critic's channels): a list of score arrays, one per set."""
    model, cfg, phase, prefix = describe(ckpt)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        images = tf.placeholder(tf.float32, [None, cfg['IMAGE_SIZE'], cfg['IMAGE_SIZE'],
                                             cfg['CHANNELS']])
        scores = model.discriminator(cfg, images, phase=phase)[0]
        restore_graph(session, prefix)
        return [np.concatenate([session.run(scores, {images: x[start:start + batch]})
                                for start in range(0, len(x), batch)]) for x in image_sets]


def inferred_signature(path, z_dim, conditional, image_shape, n_classes=None):
    """The Signature of a generator exported before signatures, from its tensors' shapes; the
    number of classes is ``n_classes`` (default 10, what such files were sampled with)."""
    if conditional and n_classes is None:
        n_classes = 10
        print('{}: no signature (an older export): assuming 10 classes; pass --n_classes K, or '
              'export it again'.format(path))
    return models.Signature(int(z_dim), n_classes if conditional else None,
                            int(image_shape[1]), int(image_shape[3]))


def pb_signature(path, graph, n_classes=None):
    """The Signature of the frozen generator imported into ``graph``."""
    names = {op.name for op in graph.get_operations()}
    if 'z' not in names or 'images' not in names:
        raise ScorerError('{}: not a generator graph (no input z or output images; '
                          'freeze_graph.py writes those)'.format(path))
    if SIGNATURE in names:
        return from_vector(tf.make_ndarray(graph.get_operation_by_name(SIGNATURE).get_attr(
            'value')))
    return inferred_signature(path, graph.get_tensor_by_name('z:0').shape[1],
                              'label' in names, graph.get_tensor_by_name('images:0').shape,
                              n_classes)


def onnx_signature(path, session, n_classes=None):
    """The Signature an .onnx generator carries in its metadata."""
    text = session.get_modelmeta().custom_metadata_map.get(ONNX_SIGNATURE)
    if text is not None:
        return models.Signature.from_dict(json.loads(text))
    inputs = {i.name: i.shape for i in session.get_inputs()}
    return inferred_signature(path, inputs['z:0'][1], 'label:0' in inputs,
                              session.get_outputs()[0].shape, n_classes)


def is_saved_model(path):
    return os.path.isfile(os.path.join(path, 'saved_model.pb'))


def not_a_saved_model_dir(path):
    """What to give instead of ``path``, when it is a SavedModel's file or a TensorFlow
    Serving base path (its versions inside), else None."""
    if os.path.basename(path) == 'saved_model.pb':
        return 'the SavedModel\'s directory, {}'.format(os.path.dirname(path) or '.')
    if os.path.isdir(path) and not is_saved_model(path):
        versions = sorted((d for d in os.listdir(path) if d.isdigit() and
                           is_saved_model(os.path.join(path, d))), key=int)
        if versions:
            return 'one of its versions, such as {}'.format(os.path.join(path, versions[-1]))
    return None


def check_saved_model(path):
    """Refuse (graph_guard.UnsafeGraph) a SavedModel whose loading or sampling would run
    anything but its own restore and tensor math, read from saved_model.pb before TensorFlow
    loads anything: the restore op (RESTORE_OPS, its file prefix fed), the init ops and the
    facts signature (GENERATOR_OPS, nothing fed) and serving_default (GENERATOR_OPS and the
    variables, z and label fed). Variables without a saver are refused: TF's loader would make
    a restore op of its own, from variable definitions this check does not read."""
    saved = SavedModelProto()
    try:
        with open(os.path.join(path, 'saved_model.pb'), 'rb') as f:
            saved.ParseFromString(f.read())
    except Exception as error:  # protobuf's DecodeError and friends
        raise ScorerError('{}: not a SavedModel ({})'.format(path, type(error).__name__))
    for meta_graph in saved.meta_graphs:
        if tf.saved_model.tag_constants.SERVING not in meta_graph.meta_info_def.tags:
            continue
        graph, saver = meta_graph.graph_def, meta_graph.saver_def
        variables = any(meta_graph.collection_def[key].bytes_list.value for key in
                        meta_graph.collection_def if 'variables' in key)
        if variables and not saver.restore_op_name:
            raise graph_guard.UnsafeGraph('{}: refused: it has variables but no saver (nothing '
                                          'was run)'.format(path))
        if saver.restore_op_name:
            graph_guard.check(graph, [saver.restore_op_name], RESTORE_OPS, path,
                              [saver.filename_tensor_name])
        inits = [name for key in INIT_COLLECTIONS if key in meta_graph.collection_def
                 for name in meta_graph.collection_def[key].node_list.value]
        signatures = meta_graph.signature_def
        for key in (INIT_SIGNATURE, FACTS_KEY):
            if key in signatures:
                inits += [info.name for info in signatures[key].outputs.values()]
        graph_guard.check(graph, inits, GENERATOR_OPS | VARIABLE_OPS, path)
        serving = signatures.get(tf.saved_model.signature_constants
                                 .DEFAULT_SERVING_SIGNATURE_DEF_KEY)
        if serving is not None:  # the Sampler feeds z and label, nothing else
            graph_guard.check(graph, [info.name for info in serving.outputs.values()],
                              GENERATOR_OPS | VARIABLE_OPS, path,
                              [serving.inputs[k].name for k in ('z', 'label')
                               if k in serving.inputs])


def load_saved_model(session, path):
    """Load the SavedModel at ``path`` (tag ``serve``) into ``session``'s graph, once
    ``check_saved_model`` passes; returns the tensor names of its ``serving_default`` signature
    ({'z', 'label'?, 'images'}) and the generator's Signature (from its ``FACTS_KEY``
    signature)."""
    check_saved_model(path)
    try:
        meta_graph = tf.saved_model.loader.load(
            session, [tf.saved_model.tag_constants.SERVING], path)
    except (RuntimeError, tf.errors.OpError) as error:
        raise ScorerError('{}: not a SavedModel with the tag serve ({})'.format(
            path, getattr(error, 'message', error)))
    serving = meta_graph.signature_def.get(
        tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY)
    facts = meta_graph.signature_def.get(FACTS_KEY)
    if serving is None or 'z' not in serving.inputs or 'images' not in serving.outputs or \
            facts is None or set(facts.outputs) != set(FACTS):
        raise ScorerError('{}: not a generator SavedModel (no serving_default signature from z '
                          'to images, or no signature {}: freeze_graph.py --saved_model writes '
                          'both)'.format(path, FACTS_KEY))
    names = {key: info.name for key, info in serving.inputs.items()}
    names['images'] = serving.outputs['images'].name
    return names, from_vector(session.run([facts.outputs[k].name for k in FACTS]))


class Sampler(object):
    """Generates images from a checkpoint, a frozen .pb, an .onnx or a SavedModel, in batches,
    with labels cycling through the classes of its ``signature``; ``n_classes`` counts them
    for files exported without one. ``close()`` frees its session."""

    def __init__(self, path, preset=None, flags=(), n_classes=None):
        instead = not_a_saved_model_dir(path)
        if instead:
            raise ScorerError('{}: give {}'.format(path, instead))
        exported = path.endswith('.pb') or path.endswith('.onnx') or is_saved_model(path)
        if exported and (preset or flags):
            raise ConfigError('{}: --preset and --KEY VALUE settings describe checkpoints, not '
                              'exported generators ({})'.format(path, ' '.join(
                                  (['--preset'] if preset else []) + list(flags[:1]))))
        self.onnx = self.session = None
        if path.endswith('.onnx'):
            import onnxruntime
            self.onnx = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
            self.signature = onnx_signature(path, self.onnx, n_classes)
            return
        graph = tf.Graph()
        self.session = tf.Session(graph=graph)
        names = {'z': 'z:0', 'label': 'label:0', 'images': 'images:0'}
        try:
            with graph.as_default():
                if path.endswith('.pb'):
                    graph_def = read_graph_def(path, 'generator graph')
                    graph_guard.check(graph_def, ['images', SIGNATURE], GENERATOR_OPS, path)
                    tf.import_graph_def(graph_def, name='')
                    self.signature = pb_signature(path, graph, n_classes)
                elif is_saved_model(path):
                    names, self.signature = load_saved_model(self.session, path)
                else:
                    model, cfg, phase, prefix = describe(path, preset, flags)
                    _, _, self.signature = generator_graph(model, cfg, phase)
                    restore_graph(self.session, prefix)
        except BaseException:
            self.session.close()
            raise
        # A callable skips session.run's per-call feed and fetch handling: 2.7 instead of
        # 3.2 ms per call for the flagship at batch 1, onnxruntime's speed.
        self.generate = self.session.make_callable(
            names['images'], [names[k] for k in self.inputs()])

    def inputs(self):
        return ('z', 'label') if self.signature.conditional else ('z',)

    def labels(self, n):
        """The classes of ``sample(n, ...)``'s images (int32), or None if unconditional."""
        if self.signature.conditional:
            return (np.arange(n) % self.signature.n_classes).astype(np.int32)
        return None

    def sample(self, n, batch, seed=0):
        rng = np.random.RandomState(seed)
        labels = self.labels(n)
        out = []
        for start in range(0, n, batch):
            size = min(batch, n - start)
            feed = {'z': rng.randn(size, self.signature.z_dim).astype(np.float32)}
            if self.signature.conditional:
                feed['label'] = labels[start:start + size]
            if self.onnx is not None:
                out.append(self.onnx.run(['images:0'], {k + ':0': v for k, v in feed.items()})[0])
            else:
                out.append(self.generate(*[feed[k] for k in self.inputs()]))
        return np.concatenate(out)

    def close(self):
        if self.session is not None:
            self.session.close()
