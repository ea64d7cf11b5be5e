"""Images per second of a frozen generator through TensorFlow and through onnxruntime, side by
side, at several batch sizes.

    python bench/infer.py [--preset transfer_gan_cifar10] [--batches 1,16,128] [--KEY VALUE]
    python bench/infer.py --levers inter_op=1,no_remapping     # TF session configs beside

The generator is made as a finished run exports it: a run directory with a random-init
checkpoint and meta.json (temporary), frozen to .pb and .onnx by zoo.export's freeze() and
to_onnx() with a dynamic batch, both checked against the checkpoint. TensorFlow runs the .pb in
a default session (through a session callable) and onnxruntime the .onnx in a default CPU
session, as zoo.generators.Sampler does. The engines take turns in rounds of consecutive
calls, so both see the same machine. Each turn starts with a pause and an untimed call:
onnxruntime's threads keep spinning for a while after a call returns (without the pause, TF's
calls right after it were measured up to 35% slower at batch 1). A turn makes 30 calls, as
sampling thousands of images does: TF's idle threads wake slower than onnxruntime's spinning
ones, so with 3 calls a turn TF measured 0.73x onnxruntime at batch 1, with 30 0.93x.
"""
import argparse
import functools
import os
import tempfile
import time

import machine
from tflib import checkpoints, files
from tflib.compat import tf
from zoo import export as zoo_export, generators, settings as zoo_settings

PAUSE = 0.2  # seconds for the other engine's spinning threads to stop


def settings(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     epilog='Other --KEY VALUE flags override the preset, as '
                                            'for gan_train.py.')
    parser.add_argument('--preset', default='transfer_gan_cifar10')
    parser.add_argument('--batches', default='1,16,128', help='comma-separated batch sizes')
    parser.add_argument('--rounds', type=int, default=5,
                        help='rounds in which each engine runs in turn, per batch size')
    parser.add_argument('--calls', type=int, default=30, help='timed calls per engine per round')
    parser.add_argument('--levers', default='',
                        help='comma-separated TF session configs to time beside the default: '
                             'inter_op=N, intra_op=N, no_OPTIMIZER (e.g. no_remapping)')
    parser.add_argument('--bn_mode', default='batch', choices=generators.BN_MODES,
                        help="freeze_graph.py's --bn_mode")
    args, rest = parser.parse_known_args(argv)
    req = zoo_settings.request(['--preset', args.preset] + rest)
    return args, req.model, zoo_settings.model_values(req, data_format='NHWC'), \
        req.values['seed']


def export(directory, model, model_cfg, seed, bn_mode):
    """A finished run's directory (its last phase) with a random-init checkpoint, frozen:
    (.pb GraphDef, .onnx path, signature)."""
    step = model.phases(model_cfg)[-1].end
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(seed)
        global_step = tf.train.get_or_create_global_step()  # the checkpoint's step names its phase
        generators.generator_graph(model, model_cfg, model.phase_at(model_cfg, step))
        session.run(tf.global_variables_initializer())
        global_step.load(step, session)
        checkpoints.save(session, tf.train.Saver(), directory, step,
                         {'model': model.name, 'config': dict(model_cfg)})
    pb, onnx = os.path.join(directory, 'G.pb'), os.path.join(directory, 'G.onnx')
    with files.Together() as out:
        graph_def, signature, feed, expected = zoo_export.freeze(out, directory, pb,
                                                                 bn_mode=bn_mode)
        zoo_export.check(pb, zoo_export.run_frozen(graph_def, feed), expected)
        zoo_export.check(onnx, zoo_export.to_onnx(graph_def, signature, feed, onnx, out),
                         expected)
    return graph_def, onnx, signature


def tf_config(lever):
    """A session config: 'default' (zoo.generators.Sampler's), 'inter_op=N', 'intra_op=N' or
    'no_OPTIMIZER' (a grappler rewrite turned off, e.g. no_remapping, no_layout_optimizer)."""
    config = tf.ConfigProto()
    if lever.startswith(('inter_op=', 'intra_op=')):
        setattr(config, lever[:8] + '_parallelism_threads', int(lever[9:]))
    elif lever.startswith('no_'):
        rewrites = config.graph_options.rewrite_options
        setattr(rewrites, lever[3:], rewrites.OFF)
    elif lever != 'default':
        raise ValueError('unknown session lever {!r}'.format(lever))
    return config


def main(argv=None):
    import onnxruntime
    args, model, model_cfg, seed = settings(argv)
    with tempfile.TemporaryDirectory() as tmp:
        graph_def, onnx, signature = export(tmp, model, model_cfg, seed, args.bn_mode)
        ort = onnxruntime.InferenceSession(onnx, providers=['CPUExecutionProvider'])
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name='')
    levers = ['default'] + [lever for lever in args.levers.split(',') if lever]
    sessions = {'tf' if lever == 'default' else 'tf ' + lever:
                tf.Session(graph=graph, config=tf_config(lever)) for lever in levers}
    rates = {}
    for batch in [int(b) for b in args.batches.split(',')]:
        feed = {k + ':0': v for k, v in zoo_export.check_inputs(signature, batch).items()}
        runs = {name: functools.partial(s.make_callable('images:0', list(feed)), *feed.values())
                for name, s in sessions.items()}  # as zoo.generators.Sampler calls it
        runs['ort'] = functools.partial(ort.run, ['images:0'], feed)
        times = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                time.sleep(PAUSE)
                run()
                times[name] += [machine.timed(run) for _ in range(args.calls)]
        rates[batch] = {name: batch / machine.median(t) for name, t in times.items()}
        print('batch {:>4}: {}; TF / ORT {:.2f}'.format(batch, ', '.join(
            '{} {:.1f} img/s'.format(name, rate) for name, rate in rates[batch].items()),
            rates[batch]['tf'] / rates[batch]['ort']), flush=True)
    for session in sessions.values():
        session.close()
    best = max(rates, key=lambda b: rates[b]['tf'])
    machine.result(tf_images_per_sec=rates[best]['tf'], ort_images_per_sec=rates[best]['ort'],
                   tf_over_ort=rates[best]['tf'] / rates[best]['ort'], batch=best,
                   max_rss_gib=machine.max_rss_gib())


if __name__ == '__main__':
    main()
