"""Checkpoints: TF Saver files plus ``meta.json`` (model, config, step, data format, TF version).

``meta.json`` is rewritten, atomically, only after a checkpoint is complete, so it always names
one that loads; any later tool rebuilds the graph from the directory alone. Fine-tuning restores
model params only (never optimizer slots or loss-scale state) from any checkpoint that uses the
tflib keys, the authors' released ones included.
"""
import os
import time

import numpy as np

from tflib import files
from tflib.compat import TF_VERSION, tf
from tflib.config import ConfigError

META = 'meta.json'
PREFIX = 'model.ckpt'


class CheckpointError(ValueError):
    """A checkpoint path that does not hold what was expected; the message names it."""


def exists(prefix):
    """Whether a complete checkpoint has this prefix (TF 1.15 raises on a missing folder)."""
    try:
        return tf.train.checkpoint_exists(prefix)
    except tf.errors.OpError:
        return False


def save(session, saver, directory, step, meta):
    """Save the session's variables at ``step``, then point ``meta.json`` at them."""
    ckpt_dir = os.path.join(directory, 'checkpoints')
    if not os.path.isdir(ckpt_dir):
        os.makedirs(ckpt_dir)
    try:
        path = saver.save(session, os.path.join(ckpt_dir, PREFIX), global_step=step,
                          write_meta_graph=False)
    except (tf.errors.OpError, ValueError) as error:
        raise CheckpointError('{}: cannot write the step-{} checkpoint ({}); the last complete '
                              'one stays in meta.json'.format(ckpt_dir, step,
                                                              getattr(error, 'message', error)))
    meta = dict(meta, step=int(step), checkpoint=os.path.relpath(path, directory),
                tf_version=TF_VERSION, saved=time.strftime('%Y-%m-%dT%H:%M:%S'))
    files.write_json(os.path.join(directory, META), meta)
    return path


def read_meta(directory):
    """The run's ``meta.json`` with ``checkpoint`` made absolute, or None when there is none."""
    path = os.path.join(directory, META)
    if not os.path.exists(path):
        return None
    try:
        meta = files.read_json(path)
        meta['checkpoint'] = os.path.join(directory, meta['checkpoint'])
    except (ValueError, KeyError) as error:
        raise CheckpointError('{}: not a readable meta.json ({})'.format(path, error))
    if not exists(meta['checkpoint']):
        raise CheckpointError('{}: names checkpoint {} which is missing'.format(
            path, meta['checkpoint']))
    return meta


def resolve(path):
    """A checkpoint prefix from a run directory, a directory with TF's ``checkpoint`` file, or
    a prefix itself (e.g. the authors' ``transfer_model/.../wgan-gp.model``)."""
    if os.path.isdir(path):
        meta = read_meta(path)
        if meta:
            return meta['checkpoint']
        latest = tf.train.latest_checkpoint(path) or \
            tf.train.latest_checkpoint(os.path.join(path, 'checkpoints'))
        if latest:
            return latest
        raise CheckpointError('{}: no checkpoint in this directory'.format(path))
    if exists(path):
        return path
    raise CheckpointError('{}: no such checkpoint (give a run directory or a checkpoint '
                          'prefix such as model.ckpt-1000)'.format(path))


def _reader(prefix):
    try:
        return tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError) as error:
        raise CheckpointError('{}: not a readable checkpoint ({})'.format(prefix, error))


def keys(prefix):
    """The variable keys a checkpoint holds."""
    return set(_reader(prefix).get_variable_to_shape_map())


def step_of(prefix):
    """The global step a checkpoint was saved at, or None (the authors' have none)."""
    reader = _reader(prefix)
    return int(reader.get_tensor('global_step')) if reader.has_tensor('global_step') else None


def restore(session, path, variables, uncond_to_cond=False):
    """Load ``variables`` from the checkpoint at ``path`` by key: the model params to fine-tune,
    or all of a graph's variables to resume (then a checkpoint written on another device may
    lack, say, its loss-scale state, which keeps its initial value).

    With ``uncond_to_cond``, a saved [C] normalisation param fills a [n_classes, C]
    conditional one, row by row (the paper's conditional-from-unconditional initialisation).
    Returns {'restored', 'tiled', 'missing', 'mismatched'}: lists of keys."""
    prefix = resolve(path)
    reader = _reader(prefix)
    saved = reader.get_variable_to_shape_map()
    report = {'restored': [], 'tiled': [], 'missing': [], 'mismatched': []}
    for var in variables:
        key, shape = var.op.name, var.shape.as_list()
        if key not in saved:
            report['missing'].append(key)
            continue
        value = reader.get_tensor(key)
        if list(value.shape) == shape:
            report['restored'].append(key)
        elif uncond_to_cond and len(shape) == 2 and list(value.shape) == shape[1:]:
            value = np.tile(value[None], [shape[0], 1])
            report['tiled'].append(key)
        else:
            report['mismatched'].append('{} {} vs {}'.format(key, list(value.shape), shape))
            continue
        var.load(value, session)
    report['source'] = prefix
    return report


def check_resumable(meta, model, architecture, cfg, directory, defaults=None):
    """A run directory (``meta``: its meta.json) resumes only with its own ``model`` and the
    settings of its ``architecture`` (keys of ``cfg``); other changed settings (LR, ITERS, batch
    size, ...) are allowed and listed. A setting the run's meta.json predates counts as its
    value in ``defaults``."""
    if meta['model'] != model:
        raise ConfigError('{} holds a {} run; use another --output_path for {}'.format(
            directory, meta['model'], model))
    saved = dict(defaults or {}, **meta['config'])
    changed = sorted(k for k, v in cfg.items() if saved.get(k) != v)
    clashes = [k for k in changed if k in architecture]
    if clashes:
        raise ConfigError('{} holds a run with another architecture ({}); resume it with the '
                          'same settings or choose another --output_path'.format(
                              directory, ', '.join('{}={!r}'.format(k, saved.get(k))
                                                   for k in clashes)))
    if changed:
        print('settings changed since the checkpoint: {}'.format(', '.join(
            '{} {!r} -> {!r}'.format(k, saved.get(k), cfg[k]) for k in changed)))
