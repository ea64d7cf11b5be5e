"""What a run tells its user: where its outputs are, what a restore did, one-line errors."""
import os

import models
from tflib import checkpoints, cli, distributed
from tflib.compat import tf


def outputs(out):
    """The latest checkpoint, sample grid and loss curve of run directory ``out``."""
    meta = checkpoints.read_meta(out)
    lines = ['checkpoint: {}'.format(meta['checkpoint'] if meta else 'none')]
    sample_dir = os.path.join(out, 'samples')
    grids = sorted(os.listdir(sample_dir)) if os.path.isdir(sample_dir) else []
    if grids:
        lines.append('samples:    {}'.format(os.path.join(sample_dir, grids[-1])))
    if os.path.exists(os.path.join(out, 'loss_curve.png')):
        lines.append('loss curve: {}'.format(os.path.join(out, 'loss_curve.png')))
    return '\n'.join(lines)


def data_parallel(cluster, n_images, lr_scaling):
    """The line a data-parallel run (tflib.distributed's ``cluster``) starts with."""
    return ('data-parallel over {} ranks ({}): {} images each, a global batch of {} x the batch '
            'size, learning rates x {:g} (--lr_scaling {})'.format(
                cluster.size, cluster.engine, n_images, cluster.size,
                distributed.lr_factor(lr_scaling, cluster.size), lr_scaling))


def new_layers(keys):
    """The layers (key scopes) a list of variable keys belongs to."""
    return sorted(set(key.split('/')[0] for key in keys))


def finetune(report):
    """What a fine-tuning restore (zoo.resume.start_averages' report) prints: a line, and the
    averages' line when there is one."""
    line = 'fine-tuning from {}: restored {} keys'.format(report['source'],
                                                           len(report['restored']))
    if report['tiled']:
        line += ', {} tiled unconditional -> conditional'.format(len(report['tiled']))
    line += ', missing {}'.format(len(report['missing']))
    if report['missing']:
        line += ' ({})'.format(', '.join(report['missing']))
    line += ', shape-mismatched {}'.format(len(report['mismatched']))
    if report['mismatched']:
        line += ' ({})'.format('; '.join(report['mismatched']))
    started = averages(report)
    return line if started is None else line + '\n' + started


def averages(report):
    """The line on the generator's averages after a restore (zoo.resume.start_averages' report),
    or None when they were loaded as they are."""
    if report['started']:
        return 'the generator average starts at the generator of {}, which has none'.format(
            report['source'])
    if report['dropped']:
        return '{}: its generator average ({}.*) is left behind: this run has --G_ema 0'.format(
            report['source'], models.AVERAGE)
    return None


def error_message(error):
    """The one-line message of a user error, also when TF wrapped it (errors raised while
    tf.data reads a file arrive inside a TF OpError)."""
    if isinstance(error, tf.errors.OpError):
        for line in str(error.message).splitlines():
            if 'DataError:' in line:
                return line.split('DataError:', 1)[1].strip()
        return None
    return cli.one_line(error)
