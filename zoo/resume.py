"""Where a run resumes: what its checkpoints' meta.json records, and the run's latest
checkpoint restored into a phase's graph (tflib/checkpoints.py reads and writes them)."""
import models
from tflib import checkpoints
from tflib.compat import tf
from zoo import reports


def run_meta(settings, dev, signature):
    """The meta.json contents of a run (zoo.settings.Settings ``settings``) on ``dev`` whose
    generator has ``signature``: what later tools rebuild its graph from."""
    return {'model': settings.model.name, 'config': dict(settings.model_cfg),
            'preset': settings.preset, 'data_format': settings.model_cfg['data_format'],
            'device': dev, 'signature': signature.as_dict()}


def restore_phase(session, meta, phase, carried):
    """Load the latest checkpoint into a phase's graph: all of it when it was written inside
    this phase, only the carried state when it ends the previous one. Returns the
    checkpoints.restore report."""
    if meta['step'] > phase.start:
        report = checkpoints.restore(session, meta['checkpoint'], tf.global_variables())
        print('resuming {} at step {}'.format(meta['checkpoint'], meta['step']))
        if report['missing'] or report['mismatched']:
            print('not in that checkpoint, so freshly initialised: {}'.format(
                ', '.join(report['missing'] + report['mismatched'])))
        return report
    report = checkpoints.restore(session, meta['checkpoint'], carried)
    print('from {}: {} variables carried over, {} new{}'.format(
        meta['checkpoint'], len(report['restored']), len(report['missing']),
        ' ({})'.format(', '.join(reports.new_layers(report['missing'])))
        if report['missing'] else ''))
    if report['mismatched']:
        raise checkpoints.CheckpointError('{}: shapes differ from this phase\'s graph: {}'.format(
            meta['checkpoint'], '; '.join(report['mismatched'])))
    return report


def start_averages(session, report, op):
    """Start the generator's averages at the generator just loaded (``op``:
    models.Model.start_averages) when the checkpoint (``report``: what checkpoints.restore
    loaded) had none: the authors', or a run trained without --G_ema. A checkpoint with some
    keeps them (a new phase's new layers start at their initial weights, as their params)."""
    prefix = models.AVERAGE + '.'
    if op is None or any(key.startswith(prefix) for key in report['restored'] +
                         report['tiled']):
        return
    session.run(op)
    print('{}: no generator average in it; the average starts at its generator'.format(
        report['source']))
