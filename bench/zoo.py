"""The model zoo's scoreboard: each family's digits preset trained on the built-in MNIST digits
for the same wall-clock budget from the same seed, then 5,000 samples scored with the built-in
digit classifier against the 1,000 held-out digits (the test split, never trained on): FID,
Inception Score, KID, precision, recall, density, coverage, and for conditional models the
precision and recall of each class's samples against that class's digits (the mean over the
classes; for recall also the lowest).

    python bench/zoo.py [--minutes 5] [--out output/zoo] [--presets quickstart,cgan_mnist]
    python bench/zoo.py --quick         # the pipeline in about half a minute; shows nothing

Writes zoo.md (the table), <preset>.png (the first 100 samples; for conditional models each
column one class), zoo.json and ends with a RESULT line. A preset stops at its own ITERS when
it gets there first; the budget counts training steps (the loop's MAX_MINUTES), not start-up.
Images of other sizes (a PGAN run stopped below 32x32) are resized to the held-out digits'
32x32 to be scored.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import machine  # noqa: E402
from tflib import checkpoints, files, images, logs  # noqa: E402
from zoo import generators, scoring, training  # noqa: E402

PRESETS = ('quickstart', 'cgan_mnist', 'wgan_digits', 'dcgan_digits', 'pgan_digits')
SIZE = 32  # the held-out digits' size: every generator is scored at it
FULL = dict(minutes=5., n=5000)
QUICK = dict(minutes=.03, n=200)
COLUMNS = ('FID', 'IS', 'KID x10^3', 'precision', 'recall', 'density', 'coverage',
           'class precision', 'class recall (min)')


def train(out, preset, minutes, seed):
    """The preset trained for ``minutes`` of steps into out/preset (no score, no export)."""
    run_dir = os.path.join(out, preset)
    argv = ['--preset', preset, '--output_path', run_dir, '--MAX_MINUTES', str(minutes),
            '--seed', str(seed), '--INCEPTION_FREQUENCY', '0', '--EXPORT_AT_END', 'false']
    started = time.time()
    try:
        training.train_logged(argv, os.path.join(out, preset + '.log'))
    except training.RunFailed as error:
        raise SystemExit('{} failed: {}'.format(preset, error))
    return run_dir, time.time() - started


def evaluate(run_dir, n, stats, grid_path, seed):
    """Scores of ``n`` samples of the run's latest checkpoint, and their first 100 as a grid."""
    sampler = generators.Sampler(run_dir)
    try:
        generated = sampler.sample(n, 100, seed)
    finally:
        sampler.close()
    pixels = images.to_uint8(generated[:100])
    images.save_png(grid_path, images.grid(pixels))
    generated = images.resize_float(generated, SIZE)
    scorer = scoring.Scorer(None, 1, stats)
    try:
        results = scorer.score(generated, sampler.labels(n))
    finally:
        scorer.close()
    results['signature'] = sampler.signature.as_dict()
    return results


def row(preset, model, steps, seconds, results):
    by_class = results.get('by_class')
    cells = ['{:.2f}'.format(results['fid']), '{:.2f}'.format(results['inception_score']),
             '{:.0f}'.format(results['kid'] * scoring.KID_SCALE)]
    cells += ['{:.3f}'.format(results[name]) for name in ('precision', 'recall', 'density',
                                                          'coverage')]
    if by_class:
        precision, recall = [[r[k] for r in by_class.values()] for k in ('precision', 'recall')]
        cells += ['{:.3f}'.format(np.mean(precision)),
                  '{:.3f} ({:.3f})'.format(np.mean(recall), np.min(recall))]
    else:
        cells += ['-', '-']
    return '| {} | {} | {} | {:.0f} | {} |'.format(model, preset, steps, seconds,
                                                  ' | '.join(cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='output/zoo')
    parser.add_argument('--minutes', type=float, help='training budget per preset '
                                                      '(default 5)')
    parser.add_argument('--n', type=int, help='samples scored per preset (default 5000)')
    parser.add_argument('--presets', default=','.join(PRESETS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true', help='check the pipeline in a minute')
    args = parser.parse_args(argv)
    setting = dict(QUICK if args.quick else FULL)
    setting.update({k: v for k, v in (('minutes', args.minutes), ('n', args.n)) if v})
    presets = [p for p in args.presets.split(',') if p]
    if not os.path.isdir(args.out):
        os.makedirs(args.out)
    started = time.time()
    stats = scoring.held_out_digits(os.path.join(args.out, 'digits_test.npz'), SIZE)
    lines = ['| model | preset | steps | train s | ' + ' | '.join(COLUMNS) + ' |',
             '|' + ' --- |' * (4 + len(COLUMNS))]
    report, finals = {}, {}
    for number, preset in enumerate(presets, 1):
        run_dir, seconds = train(args.out, preset, setting['minutes'], args.seed)
        meta = checkpoints.read_meta(run_dir)
        results = evaluate(run_dir, setting['n'], stats, os.path.join(args.out, preset + '.png'),
                           args.seed)
        report[preset] = dict(model=meta['model'], step=meta['step'], seconds=seconds,
                              **results)
        lines.append(row(preset, meta['model'], meta['step'], seconds, results))
        finals['fid_' + preset] = results['fid']
        finals['recall_' + preset] = results['recall']
        elapsed = time.time() - started
        print('[{}/{}] {}: step {}, FID {:.2f}, precision {:.3f}, recall {:.3f} (elapsed {}, '
              'eta {})'.format(number, len(presets), preset, meta['step'], results['fid'],
                               results['precision'], results['recall'],
                               logs.format_duration(elapsed),
                               logs.format_duration(elapsed / number * (len(presets) - number))),
              flush=True)
    text = '\n'.join(lines) + '\n'
    files.write_atomic(os.path.join(args.out, 'zoo.md'), lambda f: f.write(text.encode('utf-8')))
    files.write_json(os.path.join(args.out, 'zoo.json'), {
        'setting': setting, 'seed': args.seed, 'results': report,
        'minutes': (time.time() - started) / 60.})
    print(text)
    print('wrote {} (zoo.md, zoo.json, {}.png) in {}'.format(
        args.out, ', '.join(presets), logs.format_duration(time.time() - started)))
    machine.result(minutes=(time.time() - started) / 60., **finals)


if __name__ == '__main__':
    main()
