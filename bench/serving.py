"""What a SavedModel serves one request at a time, by BatchNorm mode, against the checkpoint's
own batches: each run's generator exported as freeze_graph.py --saved_model does, once per
``--saved_model_bn_mode``, then N images asked for one request (one image) at a time, scored
with the built-in digit classifier against the 1,000 held-out digits, beside the checkpoint's
images sampled in batches of 100 from the same z and labels.

    python bench/serving.py --ckpt output/quickstart --ckpt output/dcgan [--n 5000]

Prints a markdown table (FID; and how far, at most and on average, a single request's image is
from the same z's image in a batch of 100) and a RESULT line per run.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import machine  # noqa: E402
from tflib import files  # noqa: E402
from zoo import export, generators, scoring  # noqa: E402


def sample(path, n, batch):
    sampler = generators.Sampler(path)
    try:
        return sampler.sample(n, batch), sampler.labels(n)
    finally:
        sampler.close()


def fid(stats, generated, labels):
    scorer = scoring.Scorer(None, 1, stats)
    try:
        return scorer.score(generated, labels)['fid']
    finally:
        scorer.close()


def served(run_dir, out, mode):
    """The run's SavedModel with BatchNorm ``mode``, written under ``out``."""
    directory = os.path.join(out, 'saved_model_' + mode)
    files.writable(os.path.join(out, 'G.pb'))
    with files.Together() as staged:
        export.freeze(staged, run_dir, os.path.join(out, 'G.pb'), saved_model=directory,
                      saved_model_bn_mode=mode)
    return directory


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--ckpt', action='append', required=True, help='a run directory')
    parser.add_argument('--n', type=int, default=5000)
    parser.add_argument('--out', default='output/serving_bench')
    args = parser.parse_args(argv)
    stats = scoring.held_out_digits(os.path.join(args.out, 'digits_test.npz'))
    print('| run | batches of 100 (batch statistics) | one at a time: ' +
          ' | '.join(generators.BN_MODES) + ' |')
    print('| --- ' * (2 + len(generators.BN_MODES)) + '|')
    for run_dir in args.ckpt:
        name = os.path.basename(os.path.normpath(run_dir))
        out = os.path.join(args.out, name)
        batched, labels = sample(run_dir, args.n, 100)
        cells, result = ['{:.2f}'.format(fid(stats, batched, labels))], {}
        for mode in generators.BN_MODES:
            single, _ = sample(served(run_dir, out, mode), args.n, 1)
            apart = np.abs(single - batched).reshape(args.n, -1).max(1)
            result[mode] = fid(stats, single, labels)
            cells.append('{:.2f} (apart: max {:.2f}, mean {:.3f})'.format(
                result[mode], apart.max(), apart.mean()))
        print('| {} | {} |'.format(name, ' | '.join(cells)))
        machine.result(run=name, n=args.n, batches_fid=float(cells[0]),
                       **{'single_{}_fid'.format(mode): value for mode, value in result.items()})
    return 0


if __name__ == '__main__':
    sys.exit(main())
