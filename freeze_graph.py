"""Freeze a checkpoint's generator to a .pb (and ONNX, and a SavedModel), checked against the
checkpoint.

    python freeze_graph.py --ckpt output/quickstart --output output/G.pb [--onnx output/G.onnx] [--batch N]
    python freeze_graph.py --ckpt output/quickstart --output output/G.pb --saved_model output/serving/G/1
    python freeze_graph.py --ckpt transfer_model/conditional/bedroom/wgan-gp.model \\
        --preset transfer_gan_lsun64_acgan --output output/G.pb --batch 100

Inputs ``z`` float32 [N, Z_DIM] and, for conditional models, ``label`` int32 [N]; output
``images`` float32 NHWC in [-1, 1]; the constant ``signature`` (int32: Z_DIM, number of
classes or 0, image size, channels), which the .onnx carries as metadata and the SavedModel as
its signature ``signature`` (outputs z_dim, n_classes, image_size, channels) beside
``serving_default`` (tag ``serve``: TensorFlow Serving's conventions). ``--batch`` fixes N
(ATC needs it). The frozen generator normalises with batch statistics like the authors' code
(``--bn_mode moving`` for the moving statistics); the SavedModel, which serves single
requests, with population statistics estimated from 5,000 samples (``--saved_model_bn_mode``),
so an image depends on its own inputs alone. The .pb, the .onnx and the SavedModel must each
give the checkpoint graph's images (with its BatchNorm mode) within 1e-4, or the program fails.
"""
import argparse
import sys

from tflib import checkpoints, cli
from tflib.config import ConfigError
from zoo import export, generators

PROGRAM = 'freeze_graph.py'


def parse(argv):
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split('\n\n')[0],
                                     epilog='Other --KEY VALUE flags override the model settings '
                                            'that do not shape the network.')
    parser.add_argument('--ckpt', required=True, help='run directory or checkpoint prefix')
    parser.add_argument('--output', required=True, help='the .pb to write')
    parser.add_argument('--onnx', help='also write this ONNX file')
    parser.add_argument('--saved_model', metavar='DIR',
                        help='also write a SavedModel to this directory (new, empty or a '
                             'SavedModel, which is replaced)')
    parser.add_argument('--batch', type=int, help='fixed batch size (default: dynamic)')
    parser.add_argument('--preset', help='describes a checkpoint that has no meta.json')
    parser.add_argument('--bn_mode', default='batch', choices=generators.BN_MODES,
                        help='the .pb\'s and .onnx\'s BatchNorm statistics: the batch\'s (the '
                             'authors\'), the moving ones, or the population\'s (estimated '
                             'from 5,000 samples) (default: %(default)s)')
    parser.add_argument('--saved_model_bn_mode', default='population',
                        choices=generators.BN_MODES,
                        help='the SavedModel\'s: population by default, so a single request '
                             'gets the images a batch would (default: %(default)s)')
    parser.add_argument('--debug', action='store_true', help='tracebacks, not one-line errors')
    return parser.parse_known_args(argv)


def main(argv=None):
    args, flags = parse(sys.argv[1:] if argv is None else argv)
    return cli.guarded(PROGRAM, lambda: export.export(
        args.ckpt, args.output, args.onnx, args.batch, args.bn_mode, args.preset, flags,
        args.saved_model, args.saved_model_bn_mode),
        (ConfigError, checkpoints.CheckpointError, export.ExportError, OSError), args.debug)


if __name__ == '__main__':
    sys.exit(main())
