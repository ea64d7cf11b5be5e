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


def restore_phase(session, meta, phase, carried, averages):
    """Load the latest checkpoint into a phase's graph: all of it when it was written inside
    this phase, only the carried state when it ends the previous one; then the generator's
    averages (``averages``: models.Model.start_averages) as ``start_averages`` says."""
    if meta['step'] > phase.start:
        report = start_averages(session, checkpoints.restore(
            session, meta['checkpoint'], tf.global_variables()), averages)
        print('resuming {} at step {}'.format(meta['checkpoint'], meta['step']))
        if report['missing'] or report['mismatched']:
            print('not in that checkpoint, so freshly initialised: {}'.format(
                ', '.join(report['missing'] + report['mismatched'])))
    else:
        report = start_averages(session, checkpoints.restore(session, meta['checkpoint'],
                                                             carried), averages)
        print('from {}: {} variables carried over, {} new{}'.format(
            meta['checkpoint'], len(report['restored']), len(report['missing']),
            ' ({})'.format(', '.join(reports.new_layers(report['missing'])))
            if report['missing'] else ''))
        if report['mismatched']:
            raise checkpoints.CheckpointError('{}: shapes differ from this phase\'s graph: {}'
                                              .format(meta['checkpoint'],
                                                      '; '.join(report['mismatched'])))
    line = reports.averages(report)
    if line:
        print(line)


def start_averages(session, report, op):
    """After a restore (``report``: checkpoints.restore's), start the generator's averages at
    the generator just loaded (``op``: models.Model.start_averages) when the checkpoint had
    none: the authors', or a run trained without --G_ema. A checkpoint with some keeps them (a
    new phase's new layers start at their initial weights, as their params do). Returns the
    report with ``started`` (those averages, no longer 'missing') and ``dropped`` (the
    checkpoint's averages, which a graph without any leaves behind)."""
    prefix = models.AVERAGE + '.'
    averages = [key for key in report['missing'] if key.startswith(prefix)]
    loaded = any(key.startswith(prefix) for key in report['restored'] + report['tiled'])
    report = dict(report, started=[], dropped=False)
    if op is not None and averages and not loaded:
        session.run(op)
        report.update(started=averages,
                      missing=[key for key in report['missing'] if key not in averages])
    elif op is None:
        report['dropped'] = any(key.startswith(prefix)
                                for key in checkpoints.keys(report['source']))
    return report
