"""The flagship paper's transfer effect (Wang et al., ECCV 2018) on the built-in MNIST digits.

A source GAN learns digits 0-4; then digits 5-9 are learned from 100, 500 and all their
training images, from scratch and from the source's weights (--finetune_from), with the same
iterations and seed; and the paper's conditional case: a conditional (AC-GAN) model started from
the unconditional source (--finetune_uncond_to_cond) against one from scratch. Every run is
scored at fixed iterations by FID and Inception Score with the built-in digit classifier,
against all of the digits 5-9.

    python bench/transfer_experiment.py [--out output/transfer_experiment] [--quick]
    python bench/transfer_experiment.py --seeds 3 --runs scratch_500,transfer_500

Writes transfer.md (the table), transfer.png (FID against iterations) and transfer.json.
--seeds N repeats the source and every target run with seeds 0..N-1 (in out/seedK/) and gives
each point as mean ± std over the seeds: the margin of the single-seed figures.
The full experiment takes about 40 minutes on 2 cores; --quick (tiny networks, a few steps)
checks the pipeline in about a minute and shows nothing about the effect.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import machine  # noqa: E402
import datasets  # noqa: E402
from tflib import files, logs  # noqa: E402
from tflib.metrics import classifier, scores  # noqa: E402
from zoo import generators, scoring, training  # noqa: E402

SOURCE, TARGET = '0,1,2,3,4', '5,6,7,8,9'
FULL = dict(source_iters=2000, target_iters=1500, eval_every=250, n_eval=2000,
            sizes=(100, 500, 0), conditional_size=500, width=[])
QUICK = dict(source_iters=4, target_iters=4, eval_every=2, n_eval=100, sizes=(100, 0),
             conditional_size=100, width=['--DIM_G', '8', '--DIM_D', '8'])
UNCONDITIONAL = ['--CONDITIONAL', 'false', '--ACGAN', 'false']


def size_name(size):
    return 'all' if size == 0 else str(size)


def train(out, name, iters, every, flags):
    """One training run as gan_train.py makes it (quickstart settings, no time limit), its
    output in out/name; a user error exits naming the run and its log."""
    run_dir = os.path.join(out, name)
    argv = ['--preset', 'quickstart', '--output_path', run_dir, '--ITERS', str(iters),
            '--CHECKPOINT_STEP', str(every), '--keep_checkpoints', '1000', '--LOG_STEP',
            str(every), '--SAVE_SAMPLES_STEP', str(every), '--MAX_MINUTES', '0',
            '--EXPORT_AT_END', 'false'] + flags
    try:
        training.train_logged(argv, os.path.join(out, name + '.log'))
    except training.RunFailed as error:
        raise SystemExit('{} failed: {}'.format(name, error))
    return run_dir


class Scorer(object):
    """FID and IS of a checkpoint's samples with the digit classifier, against digits 5-9."""

    def __init__(self, n):
        self.n = n
        self.model = classifier.FrozenClassifier(scoring.DIGIT_CLASSIFIER, batch_size=100)
        real = []
        for split in ('train', 'test'):
            source = datasets.base.select(datasets.get('mnist_builtin')('', 32, 3, split),
                                          [int(c) for c in TARGET.split(',')])
            real.append(source.read(np.arange(len(source)))[0].astype(np.float32))
        self.mu, self.sigma = scores.statistics(self.model.run(np.concatenate(real))[0])

    def __call__(self, prefix):
        sampler = generators.Sampler(prefix)
        generated = sampler.sample(self.n, 100)
        sampler.close()
        features, probs = self.model.run(classifier.to_pixels(generated))
        mu, sigma = scores.statistics(features)
        return {'fid': float(scores.frechet_distance(mu, sigma, self.mu, self.sigma)),
                'is': float(scores.inception_score(probs)[0])}


def conditions(setting):
    """(name, label, flags, from source, uncond -> cond) per target run."""
    runs = []
    for size in setting['sizes']:
        data = ['--classes', TARGET, '--max_images', str(size)]
        for transfer in (False, True):
            runs.append(('{}_{}'.format('transfer' if transfer else 'scratch', size_name(size)),
                         '{} images, {}'.format(size_name(size), 'transfer' if transfer
                                                else 'scratch'),
                         UNCONDITIONAL + data, transfer, False))
    size = setting['conditional_size']
    data = ['--classes', TARGET, '--max_images', str(size), '--N_CLASSES', '5']
    runs.append(('cond_scratch_{}'.format(size), '{} images, conditional, scratch'.format(size),
                 data, False, False))
    runs.append(('cond_transfer_{}'.format(size),
                 '{} images, conditional from unconditional'.format(size), data, True, True))
    return runs


def table(results, steps):
    """The Markdown table: FID per step (mean +- std over seeds when there are several)."""
    def cell(point, key, digits):
        text = '{:.{}f}'.format(point[key], digits)
        return text + (' ± {:.{}f}'.format(point[key + '_std'], digits)
                       if point.get(key + '_std') else '')

    lines = ['| run | ' + ' | '.join('FID @{}'.format(s) for s in steps) + ' | IS @{} |'.format(
        steps[-1]), '|' + ' --- |' * (len(steps) + 2)]
    for label, points in results.items():
        by_step = {p['step']: p for p in points}
        cells = [cell(by_step[s], 'fid', 1) if s in by_step else '-' for s in steps]
        lines.append('| {} | {} | {} |'.format(label, ' | '.join(cells),
                                              cell(by_step[steps[-1]], 'is', 2)))
    return '\n'.join(lines) + '\n'


def plot(results, path):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    groups = sorted({label.split(',')[0] + (', cond.' if 'conditional' in label else '')
                     for label in results}, key=lambda g: (('cond' in g), len(g), g))
    figure, axes = pyplot.subplots(1, len(groups), figsize=(3.2 * len(groups), 3), dpi=100,
                                   sharey=True)
    for axis, group in zip(np.atleast_1d(axes), groups):
        for label, points in results.items():
            key = label.split(',')[0] + (', cond.' if 'conditional' in label else '')
            if key != group:
                continue
            transfer = 'transfer' in label or 'from unconditional' in label
            axis.plot([p['step'] for p in points], [p['fid'] for p in points],
                      '-o' if transfer else '--s', markersize=3,
                      label='from source' if transfer else 'from scratch')
        axis.set_title(group.replace('images', 'target images'), fontsize='small')
        axis.set_xlabel('generator step')
        axis.grid(alpha=.3)
    np.atleast_1d(axes)[0].set_ylabel('FID vs digits 5-9 (lower is better)')
    np.atleast_1d(axes)[0].legend(fontsize='small')
    figure.tight_layout()
    files.write_atomic(path, lambda f: figure.savefig(f, format='png'))


def one_seed(out, setting, runs, seed, score, progress):
    """The source run and the target ``runs`` (conditions' entries) with ``seed``, in ``out``:
    (the source's scores on the target digits, {label: [{step, fid, is}]})."""
    common = setting['width'] + ['--seed', str(seed)]
    source = train(out, 'source', setting['source_iters'], setting['source_iters'],
                   common + UNCONDITIONAL + ['--classes', SOURCE])
    source_ckpt = os.path.join(source, 'checkpoints',
                               'model.ckpt-{}'.format(setting['source_iters']))
    at_start = score(source_ckpt)
    progress('source (digits {}, {} steps, seed {}) on digits 5-9: FID {:.1f}, IS {:.2f}'.format(
        SOURCE, setting['source_iters'], seed, at_start['fid'], at_start['is']))
    steps = list(range(setting['eval_every'], setting['target_iters'] + 1,
                       setting['eval_every']))
    results = {}
    for name, label, flags, transfer, to_cond in runs:
        extra = ['--finetune_from', source_ckpt] if transfer else []
        extra += ['--finetune_uncond_to_cond', 'true'] if to_cond else []
        run_dir = train(out, name, setting['target_iters'], setting['eval_every'],
                        common + flags + extra)
        points = [dict(step=s, **score(os.path.join(run_dir, 'checkpoints',
                                                     'model.ckpt-{}'.format(s))))
                  for s in steps]
        if transfer and not to_cond:
            points.insert(0, dict(step=0, **at_start))
        results[label] = points
        progress('{}: FID {}'.format(label, ' '.join('{:.1f}'.format(p['fid'])
                                                     for p in points)))
    return at_start, results


def across_seeds(per_seed):
    """{label: [{step, fid, is, fid_std, is_std}]}: each point's mean and standard deviation
    over the seeds' results (one seed: std 0)."""
    merged = {}
    for label, points in per_seed[0].items():
        merged[label] = []
        for i, point in enumerate(points):
            values = {k: [results[label][i][k] for results in per_seed] for k in ('fid', 'is')}
            merged[label].append(dict(step=point['step'], **{
                k: float(np.mean(v)) for k, v in values.items()}, **{
                k + '_std': float(np.std(v)) for k, v in values.items()}))
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='output/transfer_experiment')
    parser.add_argument('--quick', action='store_true', help='check the pipeline in a minute')
    parser.add_argument('--seeds', type=int, default=1,
                        help='repeat every run with seeds 0..N-1: each point as mean +- std')
    parser.add_argument('--runs', help='only these target runs (comma-separated names, e.g. '
                                       'scratch_500,transfer_500)')
    args = parser.parse_args(argv)
    setting = QUICK if args.quick else FULL
    runs = conditions(setting)
    if args.runs:
        names = [run[0] for run in runs]
        unknown = sorted(set(args.runs.split(',')) - set(names))
        if unknown:
            parser.error('--runs: unknown {}; runs: {}'.format(', '.join(unknown),
                                                               ', '.join(names)))
        runs = [run for run in runs if run[0] in args.runs.split(',')]
    if args.seeds < 1:
        parser.error('--seeds must be at least 1')
    if not os.path.isdir(args.out):
        os.makedirs(args.out)
    started = time.time()
    score = Scorer(setting['n_eval'])
    total, done = args.seeds * (1 + len(runs)), [0]

    def progress(text):
        done[0] += 1
        elapsed = time.time() - started
        print('[{}/{}] {} (elapsed {}, eta {})'.format(
            done[0], total, text, logs.format_duration(elapsed),
            logs.format_duration(elapsed / done[0] * (total - done[0]))), flush=True)

    starts, per_seed = [], []
    for seed in range(args.seeds):
        out = args.out if args.seeds == 1 else os.path.join(args.out, 'seed{}'.format(seed))
        if not os.path.isdir(out):
            os.makedirs(out)
        at_start, results = one_seed(out, setting, runs, seed, score, progress)
        starts.append(at_start)
        per_seed.append(results)
    results = across_seeds(per_seed)
    steps = [0] + list(range(setting['eval_every'], setting['target_iters'] + 1,
                             setting['eval_every']))
    text = table(results, steps)
    files.write_atomic(os.path.join(args.out, 'transfer.md'), lambda f: f.write(
        text.encode('utf-8')))
    files.write_json(os.path.join(args.out, 'transfer.json'), {
        'setting': setting, 'seeds': args.seeds, 'source_on_target': starts[0],
        'results': results, 'per_seed': per_seed, 'minutes': (time.time() - started) / 60.})
    plot(results, os.path.join(args.out, 'transfer.png'))
    print(text)
    print('wrote {} (transfer.md, transfer.png, transfer.json) in {}'.format(
        args.out, logs.format_duration(time.time() - started)))
    finals = {'fid_' + run[0]: results[run[1]][-1]['fid'] for run in runs}
    if args.seeds > 1:
        finals.update({'fid_std_' + run[0]: results[run[1]][-1]['fid_std'] for run in runs})
    machine.result(minutes=(time.time() - started) / 60., **finals)


if __name__ == '__main__':
    main()
