"""Where a run resumes: what its checkpoints' meta.json records, and the run's latest
checkpoint restored into a phase's graph (tflib/checkpoints.py reads and writes them)."""
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
    this phase, only the carried state when it ends the previous one."""
    if meta['step'] > phase.start:
        report = checkpoints.restore(session, meta['checkpoint'], tf.global_variables())
        print('resuming {} at step {}'.format(meta['checkpoint'], meta['step']))
        if report['missing'] or report['mismatched']:
            print('not in that checkpoint, so freshly initialised: {}'.format(
                ', '.join(report['missing'] + report['mismatched'])))
        return
    report = checkpoints.restore(session, meta['checkpoint'], carried)
    print('from {}: {} variables carried over, {} new{}'.format(
        meta['checkpoint'], len(report['restored']), len(report['missing']),
        ' ({})'.format(', '.join(reports.new_layers(report['missing'])))
        if report['missing'] else ''))
    if report['mismatched']:
        raise checkpoints.CheckpointError('{}: shapes differ from this phase\'s graph: {}'.format(
            meta['checkpoint'], '; '.join(report['mismatched'])))
