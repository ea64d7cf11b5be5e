"""Freeze a checkpoint's generator to a .pb (and ONNX), checked against the checkpoint.

    python freeze_graph.py --ckpt output/quickstart --output G.pb [--onnx G.onnx] [--batch N]
    python freeze_graph.py --ckpt transfer_model/conditional/bedroom/wgan-gp.model \\
        --preset transfer_gan_lsun64_acgan --output G.pb --batch 100

Inputs ``z`` float32 [N, Z_DIM] and, for conditional models, ``label`` int32 [N]; output
``images`` float32 NHWC in [-1, 1]. ``--batch`` fixes N (ATC needs it). The frozen generator
normalises with batch statistics like the authors' code (``--bn_mode moving`` for the moving
statistics). The checkpoint graph, the .pb and the .onnx must agree within 1e-4 on the same
inputs, or the program fails.
"""
import argparse
import sys

import numpy as np

from tflib import checkpoints, cli, files, inference
from tflib.compat import tf
from tflib.config import ConfigError

PROGRAM = 'freeze_graph.py'
TOLERANCE = 1e-4
ONNX_OPSET = 13


class ExportError(RuntimeError):
    """An export that cannot be made or does not reproduce the checkpoint."""


def parse(argv):
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split('\n\n')[0],
                                     epilog='Other --KEY VALUE flags override the model settings '
                                            'that do not shape the network.')
    parser.add_argument('--ckpt', required=True, help='run directory or checkpoint prefix')
    parser.add_argument('--output', required=True, help='the .pb to write')
    parser.add_argument('--onnx', help='also write this ONNX file')
    parser.add_argument('--batch', type=int, help='fixed batch size (default: dynamic)')
    parser.add_argument('--preset', help='describes a checkpoint that has no meta.json')
    parser.add_argument('--bn_mode', default='batch', choices=inference.BN_MODES)
    parser.add_argument('--debug', action='store_true', help='tracebacks, not one-line errors')
    return parser.parse_known_args(argv)


def sample_inputs(cfg, n, seed=0):
    """Fixed noise, and labels cycling through the classes, for the checks."""
    feed = {'z': np.random.RandomState(seed).randn(n, cfg['Z_DIM']).astype(np.float32)}
    if cfg.get('CONDITIONAL'):
        feed['label'] = (np.arange(n) % cfg['N_CLASSES']).astype(np.int32)
    return feed


def freeze(args, flags):
    """Write the .pb; returns the frozen GraphDef, the model config, the check inputs and
    the images the checkpoint graph gives for them."""
    model, cfg, prefix = inference.describe(args.ckpt, args.preset, flags)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        inputs, images = inference.generator_graph(model, cfg, args.batch, args.bn_mode)
        inference.restore_graph(session, prefix)
        feed = sample_inputs(cfg, args.batch or 16)
        expected = session.run(images, {inputs[k]: v for k, v in feed.items()})
        frozen = tf.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), ['images'])
    files.write_atomic(args.output, lambda f: f.write(frozen.SerializeToString()))
    return frozen, cfg, feed, expected


def run_frozen(graph_def, feed):
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name='')
    with tf.Session(graph=graph) as session:
        return session.run('images:0', {k + ':0': v for k, v in feed.items()})


def to_onnx(graph_def, feed, path):
    """Convert with tf2onnx and run with onnxruntime; returns the images it gives."""
    try:
        import onnxruntime
        import tf2onnx
    except ImportError as error:
        raise ExportError('--onnx needs tf2onnx and onnxruntime (pip install tf2onnx '
                          'onnxruntime): {}'.format(error))
    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=[k + ':0' for k in sorted(feed)], output_names=['images:0'],
        opset=ONNX_OPSET)
    data = model.SerializeToString()
    files.write_atomic(path, lambda f: f.write(data))
    session = onnxruntime.InferenceSession(data, providers=['CPUExecutionProvider'])
    return session.run(['images:0'], {k + ':0': v for k, v in feed.items()})[0]


def atc_commands(path, cfg, batch):
    n = batch or 100  # the Ascend port's batch; batch-statistics BN needs a real batch
    shapes = 'z:{},{}'.format(n, cfg['Z_DIM'])
    if cfg.get('CONDITIONAL'):
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


def export(args, flags):
    graph_def, cfg, feed, expected = freeze(args, flags)
    print('wrote {} (inputs {}, output images {})'.format(
        args.output, ', '.join(sorted(feed)), list(expected.shape[1:])))
    check(args.output, run_frozen(graph_def, feed), expected)
    if args.onnx:
        check(args.onnx, to_onnx(graph_def, feed, args.onnx), expected)
    if args.batch is None:
        print('(dynamic batch: pass --batch N for ATC)')
    for command in atc_commands(args.output, cfg, args.batch):
        print(command)


def main(argv=None):
    args, flags = parse(sys.argv[1:] if argv is None else argv)
    return cli.guarded(PROGRAM, lambda: export(args, flags),
                       (ConfigError, checkpoints.CheckpointError, ExportError, OSError),
                       args.debug)


if __name__ == '__main__':
    sys.exit(main())
