"""Generators (and critics) rebuilt from a checkpoint alone, for scoring and export.

Our runs carry their model and settings in ``meta.json``; a bare checkpoint (the authors'
``wgan-gp.model``) is described by a preset and ``--KEY VALUE`` overrides instead. The inference
graph's interface is fixed: inputs ``z`` float32 [N, Z_DIM] and, for conditional models,
``label`` int32 [N]; output ``images`` float32 NHWC in [-1, 1].
"""
import os

import configs
import models
from tflib import checkpoints, layout
from tflib.compat import tf
from tflib.config import ConfigError, parse_flags

BN_MODES = ('batch', 'moving')


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
    """(model module, model config, checkpoint prefix) of checkpoint ``ckpt``.

    ``flags`` (``--KEY VALUE``) may change the settings that do not shape the network."""
    prefix = checkpoints.resolve(ckpt)
    meta = find_meta(ckpt)
    if meta and not preset:
        model = models.get(meta['model'])
        saved = meta['config']
    elif preset:
        model_name, saved = configs.load(preset)
        model = models.get(model_name)
        saved = {k: v for k, v in saved.items() if k in model.DEFAULTS}
    else:
        raise ConfigError('{}: no meta.json beside this checkpoint; describe its model with '
                          '--preset NAME (and --KEY VALUE overrides)'.format(ckpt))
    overrides = parse_flags(list(flags), model.DEFAULTS, getattr(model, 'FLAG_ALIASES', None))
    if meta and not preset:
        clashes = sorted(k for k in overrides if k in model.ARCHITECTURE and
                         overrides[k] != saved.get(k))
        if clashes:
            raise ConfigError('{}: the checkpoint fixes {}'.format(ckpt, ', '.join(clashes)))
    cfg = dict(saved, **overrides)
    cfg['data_format'] = 'NHWC'  # the exported graph's layout; checkpoints fit both
    cfg = model.config(**{k: v for k, v in cfg.items() if k in model.DEFAULTS})
    step = checkpoints.step_of(prefix)
    return model, models.phase_config(model, cfg, cfg['ITERS'] if step is None else step), prefix


def generator_graph(model, cfg, batch=None, bn_mode='batch'):
    """The inference graph in the current default graph: {'z', 'label'?} placeholders and the
    ``images`` output. ``bn_mode`` 'batch' normalises with batch statistics, as the authors'
    code and the Ascend port's .pb do; 'moving' with the moving statistics."""
    if bn_mode not in BN_MODES:
        raise ConfigError('--bn_mode must be one of {}, got {!r}'.format(BN_MODES, bn_mode))
    inputs = {'z': tf.placeholder(tf.float32, [batch, cfg['Z_DIM']], name='z')}
    if cfg.get('CONDITIONAL'):
        inputs['label'] = tf.placeholder(tf.int32, [batch], name='label')
    with layout.using(cfg['data_format']):
        images = model.generator(cfg, batch, labels=inputs.get('label'), noise=inputs['z'],
                                 is_training=bn_mode == 'batch')
    return inputs, tf.identity(images, name='images')


def restore_graph(session, prefix):
    """Load every variable of the session's graph, a generator (PGAN's: also the step its
    fade-in reads) or a critic; each must be in the checkpoint with its shape."""
    report = checkpoints.restore(session, prefix, tf.global_variables())
    problems = report['missing'] + report['mismatched']
    if problems:
        raise checkpoints.CheckpointError('{}: does not fit this network ({}{})'.format(
            prefix, ', '.join(problems[:3]), ', ...' if len(problems) > 3 else ''))
