"""Limited-data methods on the built-in MNIST digits, scored so that copying cannot win.

A source GAN learns digits 0-4; then digits 5-9 are learned from 500 and from 100 of their
training images by each arm, with the same iterations and seeds:
scratch; fine-tuning from the source (Wang et al. 2018, the flagship's paper); fine-tuning with
the critic's first blocks frozen (FreezeD, Mo et al. 2020); DiffAugment (Zhao et al. 2020) from
scratch and with fine-tuning; fine-tuning with both; and fine-tuning with FreezeD and an
adaptive DiffAugment strength (ADA's idea, Karras et al. 2020), which holds a tenth of the
run's images out to steer by.

Every snapshot is scored with the built-in digit classifier against the held-out digits 5-9
(the test split: never an image a run trained on) by FID, KID and precision / recall / density /
coverage; against the run's own training images by FID and KID too (a copying generator is
much nearer its training images than held-out ones: the KID gap); and by its copy rate
(tflib/metrics/memorisation.py). Arms are compared with fine-tuning seed by seed: the mean of
the paired differences with a bootstrap 95% interval.

    python bench/transfer_experiment.py [--out output/transfer_experiment] [--seeds 3]
    python bench/transfer_experiment.py --seeds 5 --runs finetune_500,freezed_diffaug_500
    python bench/transfer_experiment.py --quick

A run's scores are kept in its folder (scores.json) and a rerun continues from what is there:
finished runs are read, an interrupted one resumes from its checkpoint; so the table can be
built over several sessions (about 3 minutes a run alone on 2 cores, scoring included; the
adaptive arm, whose critic also scores a held-out batch, is no slower). Writes
transfer.md (the table), transfer.png (held-out FID against iterations) and transfer.json.
--quick (tiny networks, a few steps) checks the pipeline and shows nothing about the methods.
"""
import argparse
import collections
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import machine  # noqa: E402
import datasets  # noqa: E402
from tflib import checkpoints, distributed, files, logs  # noqa: E402
from tflib.metrics import classifier, memorisation, scores  # noqa: E402
from zoo import data, generators, scoring, training  # noqa: E402

SOURCE, TARGET = '0,1,2,3,4', '5,6,7,8,9'
UNCONDITIONAL = ['--CONDITIONAL', 'false', '--ACGAN', 'false']
FREEZE = ['--freeze_d', '2']  # the critic's two downsampling blocks, nearest the pixels
DIFFAUG = ['--diffaug', 'color,translation,cutout']  # the paper's policy for few images
ADAPTIVE = DIFFAUG + ['--ada_target', '0.3']
Arm = collections.namedtuple('Arm', ['label', 'finetune', 'flags', 'holdout'])
Arm.__new__.__defaults__ = (0.,)  # the share of a run's images it holds out
ARMS = collections.OrderedDict([
    ('scratch', Arm('scratch', False, [])),
    ('finetune', Arm('fine-tune', True, [])),
    ('freezed', Arm('fine-tune + FreezeD', True, FREEZE)),
    ('diffaug_scratch', Arm('scratch + DiffAugment', False, DIFFAUG)),
    ('diffaug', Arm('fine-tune + DiffAugment', True, DIFFAUG)),
    ('freezed_diffaug', Arm('fine-tune + FreezeD + DiffAugment', True, FREEZE + DIFFAUG)),
    ('freezed_ada', Arm('fine-tune + FreezeD + adaptive DiffAugment', True, FREEZE + ADAPTIVE,
                        .1)),
])
BASELINE = 'finetune'
FULL = dict(source_iters=2000, target_iters=1500, eval_every=250, n_eval=2000, sizes=(500, 100),
            width=[])
QUICK = dict(source_iters=4, target_iters=4, eval_every=2, n_eval=200, sizes=(100,),
             width=['--DIM_G', '8', '--DIM_D', '8'])
BOOTSTRAP = 10000


def train(out, name, iters, every, flags):
    """One training run as gan_train.py makes it (quickstart settings, no time limit), its
    output in out/name (resumed when there); a user error exits naming the run and its log.
    Returns the run's folder and the minutes this call trained."""
    run_dir = os.path.join(out, name)
    argv = ['--preset', 'quickstart', '--output_path', run_dir, '--ITERS', str(iters),
            '--CHECKPOINT_STEP', str(every), '--keep_checkpoints', '1000', '--LOG_STEP',
            str(every), '--SAVE_SAMPLES_STEP', str(every), '--MAX_MINUTES', '0',
            '--EXPORT_AT_END', 'false'] + UNCONDITIONAL + flags
    started = time.time()
    try:
        training.train_logged(argv, os.path.join(out, name + '.log'))
    except training.RunFailed as error:
        raise SystemExit('{} failed: {}'.format(name, error))
    step = checkpoints.read_meta(run_dir)['step']
    if step < iters:  # a signal stopped it, with a checkpoint
        raise SystemExit('{} stopped at step {} of {}; rerun to continue'.format(name, step,
                                                                                 iters))
    return run_dir, (time.time() - started) / 60.


def training_images(size, seed, holdout=0):
    """The digits 5-9 a run with ``--max_images size --seed seed --holdout holdout`` trains
    on, as it selects them (zoo/data.py), uint8 [N, 32, 32, 3]."""
    values = dict(dataset='mnist_builtin', data_path='', split='train', classes=TARGET,
                  max_images=size, holdout=holdout, seed=seed)
    source = data.load(values, 32, 3, distributed.SINGLE)[0]
    return source.read(np.arange(len(source)))[0]


def to_critic(pixels):
    """uint8 grey digits [N, H, W, 3] as the critic takes them: one channel in [-1, 1]."""
    return pixels[..., :1].astype(np.float32) / 127.5 - 1.


def held_out_images():
    """The test split's digits 5-9: the reference no run trains on."""
    source = datasets.base.select(datasets.get('mnist_builtin')('', 32, 3, 'test'),
                                  data.parse_classes(TARGET))
    return source.read(np.arange(len(source)))[0]


class Scorer(object):
    """A snapshot's samples against the held-out digits and against its run's training
    images, with the digit classifier's features."""

    def __init__(self, n):
        self.n = n
        self.model = classifier.FrozenClassifier(scoring.DIGIT_CLASSIFIER, batch_size=100)
        self.held_out_pixels = held_out_images()
        self.held_out = self.reference(self.held_out_pixels)

    def features(self, pixels):
        return self.model.run(np.asarray(pixels, np.float32))[0]

    def reference(self, pixels):
        features = self.features(pixels)
        mu, sigma = scores.statistics(features)
        return {'mu': mu, 'sigma': sigma, 'features': features, 'pixels': pixels}

    def __call__(self, prefix, train):
        """{held_out: {fid, kid, precision, recall, density, coverage}, train: {fid, kid},
        copy_rate, copy_threshold, copy_level, critic} of the checkpoint ``prefix``'s samples;
        ``train``: ``reference`` of its run's training images."""
        sampler = generators.Sampler(prefix)
        generated = sampler.sample(self.n, 100)
        sampler.close()
        features = self.features(classifier.to_pixels(generated))
        held_out = scoring.compare_to_real(self.held_out, features)
        mu, sigma = scores.statistics(features)
        point = {'held_out': {k: float(held_out[k]) for k in ('fid', 'kid', 'precision',
                                                               'recall', 'density', 'coverage')},
                 'train': {'fid': float(scores.frechet_distance(mu, sigma, train['mu'],
                                                                train['sigma'])),
                           'kid': scores.kernel_inception_distance(train['features'],
                                                                   features)[0]}}
        point.update(memorisation.copy_rate(train['features'], self.held_out['features'],
                                            features))
        point['critic'] = self.critic(prefix, train['pixels'], generated)
        return point

    def critic(self, prefix, train_pixels, generated):
        """The critic's mean score on the run's training images, the held-out ones and
        generated ones, and the overfitting ratio an adaptive augmentation would steer by:
        (train - held-out) / (train - generated): 0 while held-out images score like
        training ones, 1 when they score like generated ones."""
        n = len(self.held_out_pixels)
        means = [float(np.mean(s)) for s in generators.critic_scores(prefix, [
            to_critic(train_pixels), to_critic(self.held_out_pixels), generated[:n]])]
        train, held_out, fake = means
        return {'train': train, 'held_out': held_out, 'generated': fake,
                'overfit': (train - held_out) / (train - fake) if train != fake else 0.}


def eval_steps(setting):
    return list(range(setting['eval_every'], setting['target_iters'] + 1,
                      setting['eval_every']))


def kept(path, setting):
    """A finished run's scores.json, refused if made with other steps (--quick's, say)."""
    result = files.read_json(path)
    if [p['step'] for p in result['points']] != eval_steps(setting):
        raise SystemExit('{}: scored at other steps than this setting\'s; use another '
                         '--out'.format(path))
    return result


def run_names(setting, arms):
    return ['{}_{}'.format(arm, size) for size in setting['sizes'] for arm in arms]


def one_run(out, setting, name, seed, source_ckpt, score, progress):
    """Run ``name`` (ARM_SIZE) with ``seed``: kept when its scores.json is there, else trained
    (or its training finished) and scored into it."""
    path = os.path.join(out, name, 'scores.json')
    if os.path.exists(path):
        kept(path, setting)
        progress('{} seed {}: kept from {}'.format(name, seed, path))
        return
    arm_name, size = name.rsplit('_', 1)
    arm = ARMS[arm_name]
    flags = setting['width'] + ['--seed', str(seed), '--classes', TARGET, '--max_images', size]
    holdout = int(arm.holdout * int(size))
    flags += arm.flags + (['--finetune_from', source_ckpt] if arm.finetune else []) + (
        ['--holdout', str(holdout)] if holdout else [])
    timing = os.path.join(out, name + '.minutes.json')
    minutes = files.read_json(timing)['minutes'] if os.path.exists(timing) else 0.
    run_dir, spent = train(out, name, setting['target_iters'], setting['eval_every'], flags)
    files.write_json(timing, {'minutes': minutes + spent})
    train_reference = score.reference(training_images(int(size), seed, holdout))
    points = []
    for step in eval_steps(setting):
        prefix = os.path.join(run_dir, 'checkpoints', 'model.ckpt-{}'.format(step))
        points.append(dict(step=step, **score(prefix, train_reference)))
    result = {'name': name, 'arm': arm_name, 'size': int(size), 'seed': seed,
              'minutes': minutes + spent, 'points': points}
    files.write_json(path, result)
    progress('{} seed {}: held-out FID {}'.format(name, seed, ' '.join(
        '{:.1f}'.format(p['held_out']['fid']) for p in points)))


def summary(runs):
    """{name: row} over the seeds of each run: the final and the best held-out FID, the final
    snapshot's other scores, minutes, and the paired difference from the baseline arm."""
    by_name = collections.defaultdict(dict)
    for run in runs:
        by_name[run['name']][run['seed']] = run
    rows = collections.OrderedDict()
    for name, seeds in by_name.items():
        finals = [run['points'][-1] for run in seeds.values()]
        row = {'name': name, 'arm': next(iter(seeds.values()))['arm'],
               'size': next(iter(seeds.values()))['size'], 'seeds': sorted(seeds)}
        values = {
            'fid': [p['held_out']['fid'] for p in finals],
            'best_fid': [min(p['held_out']['fid'] for p in run['points'])
                         for run in seeds.values()],
            'train_fid': [p['train']['fid'] for p in finals],
            # KID, unbiased, so the two reference sets' sizes do not enter the gap.
            'gap': [p['held_out']['kid'] - p['train']['kid'] for p in finals],
            'kid': [p['held_out']['kid'] for p in finals],
            'precision': [p['held_out']['precision'] for p in finals],
            'recall': [p['held_out']['recall'] for p in finals],
            'copy_rate': [p['copy_rate'] for p in finals],
            'overfit': [p['critic']['overfit'] for p in finals],
            'minutes': [run['minutes'] for run in seeds.values()]}
        for key, vals in values.items():
            row[key], row[key + '_std'] = float(np.mean(vals)), float(np.std(vals))
        row['curve'] = [{'step': p['step'], 'fid': float(np.mean(
            [run['points'][i]['held_out']['fid'] for run in seeds.values()]))}
            for i, p in enumerate(next(iter(seeds.values()))['points'])]
        rows[name] = row
    for name, row in rows.items():
        baseline = '{}_{}'.format(BASELINE, row['size'])
        if row['arm'] == BASELINE or baseline not in by_name:
            continue
        for key in ('fid', 'best_fid'):
            shared = sorted(set(by_name[name]) & set(by_name[baseline]))
            if shared:
                row[key + '_vs_baseline'] = paired_difference(
                    [by_name[name][s]['points'] for s in shared],
                    [by_name[baseline][s]['points'] for s in shared], key)
    return rows


def paired_difference(arm, baseline, key):
    """{mean, low, high, seeds}: the arm's held-out FID (final or best) minus the baseline's
    of the same seed, averaged, with a percentile bootstrap 95% interval over the seeds."""
    def value(points):
        fids = [p['held_out']['fid'] for p in points]
        return fids[-1] if key == 'fid' else min(fids)
    differences = np.array([value(a) - value(b) for a, b in zip(arm, baseline)])
    rng = np.random.RandomState(0)
    means = differences[rng.randint(0, len(differences), (BOOTSTRAP, len(differences)))].mean(1)
    return {'mean': float(differences.mean()), 'low': float(np.percentile(means, 2.5)),
            'high': float(np.percentile(means, 97.5)), 'seeds': len(differences)}


def table(rows):
    """The Markdown table: one row per arm and size, mean ± std over its seeds."""
    def cell(row, key, digits):
        return '{:.{}f} ± {:.{}f}'.format(row[key], digits, row[key + '_std'], digits)

    def versus(row, key):
        found = row.get(key + '_vs_baseline')
        if not found:
            return '-'
        return '{:+.1f} [{:+.1f}, {:+.1f}] ({} seeds)'.format(found['mean'], found['low'],
                                                             found['high'], found['seeds'])

    lines = ['| images | arm | seeds | held-out FID (final) | vs fine-tune | held-out FID (best) '
             '| vs fine-tune | train FID | KID | KID gap | precision | recall | copy rate '
             '| critic overfit | minutes |', '|' + ' --- |' * 15]
    for row in sorted(rows.values(), key=lambda r: (-r['size'], list(ARMS).index(r['arm']))):
        lines.append('| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |'
                     .format(row['size'], ARMS[row['arm']].label, len(row['seeds']),
                             cell(row, 'fid', 1), versus(row, 'fid'), cell(row, 'best_fid', 1),
                             versus(row, 'best_fid'), cell(row, 'train_fid', 1),
                             cell(row, 'kid', 0), cell(row, 'gap', 0), cell(row, 'precision', 2),
                             cell(row, 'recall', 2), cell(row, 'copy_rate', 3),
                             cell(row, 'overfit', 2), '{:.1f}'.format(row['minutes'])))
    return '\n'.join(lines) + '\n'


def plot(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    sizes = sorted({row['size'] for row in rows.values()}, reverse=True)
    figure, axes = pyplot.subplots(1, len(sizes), figsize=(5 * len(sizes), 3.6), dpi=100,
                                   sharey=True, squeeze=False)
    for axis, size in zip(axes[0], sizes):
        for arm_name, arm in ARMS.items():
            row = rows.get('{}_{}'.format(arm_name, size))
            if row:
                axis.plot([p['step'] for p in row['curve']], [p['fid'] for p in row['curve']],
                          ('-' if arm.finetune else '--') + 'o', markersize=3,
                          label='{} ({} seeds)'.format(arm.label, len(row['seeds'])))
        axis.set_title('{} target images'.format(size), fontsize='small')
        axis.set_xlabel('generator step')
        axis.grid(alpha=.3)
    axes[0][0].set_ylabel('FID vs held-out digits 5-9')
    axes[0][-1].legend(fontsize='x-small')
    figure.tight_layout()
    files.write_atomic(path, lambda f: figure.savefig(f, format='png'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', help='results folder (default output/transfer_experiment, '
                                      'with --quick output/transfer_experiment_quick)')
    parser.add_argument('--quick', action='store_true', help='check the pipeline in a minute')
    parser.add_argument('--seeds', type=int, default=3,
                        help='run seeds 0..N-1 (in out/seedK/); rows give mean +- std')
    parser.add_argument('--runs', help='only these runs (comma-separated ARM_SIZE, e.g. '
                                       'finetune_500,freezed_diffaug_100)')
    args = parser.parse_args(argv)
    setting = QUICK if args.quick else FULL
    args.out = args.out or 'output/transfer_experiment' + ('_quick' if args.quick else '')
    names = run_names(setting, ARMS)
    if args.runs:
        unknown = sorted(set(args.runs.split(',')) - set(names))
        if unknown:
            parser.error('--runs: unknown {}; runs: {}'.format(', '.join(unknown),
                                                               ', '.join(names)))
        names = [name for name in names if name in args.runs.split(',')]
    if args.seeds < 1:
        parser.error('--seeds must be at least 1')
    started = time.time()
    score = Scorer(setting['n_eval'])
    total, done = args.seeds * len(names), [0]

    def progress(text):
        done[0] += 1
        elapsed = time.time() - started
        print('[{}/{}] {} (elapsed {}, eta {})'.format(
            done[0], total, text, logs.format_duration(elapsed),
            logs.format_duration(elapsed / done[0] * (total - done[0]))), flush=True)

    for seed in range(args.seeds):
        out = os.path.join(args.out, 'seed{}'.format(seed))
        os.makedirs(out, exist_ok=True)
        source_ckpt = None
        if any(ARMS[name.rsplit('_', 1)[0]].finetune for name in names):
            source = train(out, 'source', setting['source_iters'], setting['source_iters'],
                           setting['width'] + ['--seed', str(seed), '--classes', SOURCE])[0]
            source_ckpt = os.path.join(source, 'checkpoints',
                                       'model.ckpt-{}'.format(setting['source_iters']))
        for name in names:
            one_run(out, setting, name, seed, source_ckpt, score, progress)
    runs = [kept(os.path.join(args.out, seed, name, 'scores.json'), setting)
            for seed in sorted(os.listdir(args.out)) if seed.startswith('seed')
            for name in run_names(setting, ARMS)
            if os.path.exists(os.path.join(args.out, seed, name, 'scores.json'))]
    rows = summary(runs)
    text = table(rows)
    files.write_atomic(os.path.join(args.out, 'transfer.md'), lambda f: f.write(
        text.encode('utf-8')))
    files.write_json(os.path.join(args.out, 'transfer.json'), {
        'setting': setting, 'arms': {k: dict(v._asdict()) for k, v in ARMS.items()},
        'rows': rows, 'runs': runs})
    plot(rows, os.path.join(args.out, 'transfer.png'))
    print(text)
    print('wrote {} (transfer.md, transfer.png, transfer.json) in {}'.format(
        args.out, logs.format_duration(time.time() - started)))
    machine.result(minutes=(time.time() - started) / 60., **{
        'fid_' + name: row['fid'] for name, row in rows.items()})


if __name__ == '__main__':
    main()
