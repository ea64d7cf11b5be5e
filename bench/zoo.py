"""The model zoo's scoreboard: each family's digits preset trained on the built-in MNIST digits
for the same wall-clock budget, then 5,000 samples scored with the built-in digit classifier
against the 1,000 held-out digits (the test split, never trained on): FID, Inception Score,
KID, precision, recall, density, coverage, and for conditional models the precision and recall
of each class's samples against that class's digits (the mean over the classes; for recall
also the lowest). Rows give the mean (± std) over the seeds.

    python bench/zoo.py [--minutes 5] [--seeds 3] [--curve 1] [--out output/zoo]
                        [--presets quickstart,cgan_mnist] [--n 5000]
    python bench/zoo.py --quick         # the pipeline in about a minute; shows nothing
    python bench/zoo.py --G_ema 0.999 --G_ema_rampup 0.05   # other flags: every preset's run

A run (out/seedK/<preset>) trains in --curve-minute spans, each resuming the last one's
checkpoint (resuming is tested equal to training on), and its checkpoint is scored after each
span: FID against minutes of training, and the minutes each family takes to reach
``THRESHOLD``. The budget counts training (the loop's MAX_MINUTES, from its first step), not
loading or building; a preset stops at its own ITERS when it gets there first. A finished run
keeps its scores (scores.json) and a rerun continues from it, so the seeds can be run over
several sessions; one made with other settings is refused.

Images of other sizes (a PGAN run stopped below 32x32) are resized to the held-out digits'
32x32 to be scored. A run that keeps a generator average (--G_ema) is scored with it, and its
trained generator's FID and recall are given beside (the same run, so the average's gain is
measured without a second run's noise).

Writes zoo.md (the table), zoo.png (FID against minutes, a line per family), <preset>.png
(seed 0's first 100 samples; for conditional models each column one class), zoo.json, and
ends with a RESULT line.
"""
import argparse
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import machine  # noqa: E402
from tflib import checkpoints, files, images, logs  # noqa: E402
from tflib.config import ConfigError  # noqa: E402
from zoo import generators, scoring, settings, training  # noqa: E402

PRESETS = ('quickstart', 'cgan_mnist', 'wgan_digits', 'dcgan_digits', 'pgan_digits')
SIZE = 32  # the held-out digits' size: every generator is scored at it
FULL = dict(minutes=5., n=5000, curve=1.)
QUICK = dict(minutes=.03, n=200, curve=.015)
THRESHOLD = 60.  # the FID whose minutes the table gives
COLUMNS = ('FID', 'FID, trained G', 'minutes to FID {:.0f}'.format(THRESHOLD), 'IS',
           'KID x10^3', 'precision', 'recall', 'density', 'coverage', 'class precision',
           'class recall (min)')


def spans(setting):
    """The training minutes after each span: curve, 2 curve, ..., minutes."""
    count = max(1, int(round(setting['minutes'] / setting['curve'])))
    return [setting['minutes'] * (k + 1) / count for k in range(count)]


def train(run_dir, preset, minutes, seed, flags, log_path):
    """Train the preset on into ``run_dir`` for ``minutes`` more (no score, no export)."""
    argv = ['--preset', preset, '--output_path', run_dir, '--MAX_MINUTES', str(minutes),
            '--seed', str(seed), '--INCEPTION_FREQUENCY', '0', '--EXPORT_AT_END',
            'false'] + list(flags)
    try:
        training.train_logged(argv, log_path)
    except training.RunFailed as error:
        raise SystemExit('{} failed: {}'.format(preset, error))


def evaluate(run_dir, n, stats, seed, grid_path=None):
    """Scores of ``n`` samples of the run's latest checkpoint (their first 100 as a grid, when
    ``grid_path``); of a run with a generator average, also its trained generator's FID and
    recall."""
    results = score(run_dir, n, stats, seed, grid_path)
    if checkpoints.read_meta(run_dir)['config'].get('G_ema'):
        trained = score(run_dir, n, stats, seed, flags=('--G_ema', '0'))
        results['trained'] = {k: trained[k] for k in ('fid', 'recall')}
    return results


def score(run_dir, n, stats, seed, grid_path=None, flags=()):
    """Scores of ``n`` samples of the run's latest checkpoint (read with the model ``flags``),
    and their first 100 as a grid at ``grid_path`` if given."""
    sampler = generators.Sampler(run_dir, flags=list(flags))
    try:
        generated = sampler.sample(n, 100, seed)
    finally:
        sampler.close()
    if grid_path:
        images.save_png(grid_path, images.grid(images.to_uint8(generated[:100])))
    scorer = scoring.Scorer(None, 1, stats)
    try:
        results = scorer.score(images.resize_float(generated, SIZE), sampler.labels(n))
    finally:
        scorer.close()
    results['signature'] = sampler.signature.as_dict()
    return results


def one_run(out, preset, seed, setting, flags, stats, grid_path):
    """The run of ``preset`` with ``seed``: its scores.json when there (refused if made with
    other settings), else trained span by span, scored after each, and written. A run left
    unfinished (no scores.json) is trained again from the start: how much of its last span
    it trained is not known."""
    run_dir = os.path.join(out, 'seed{}'.format(seed), preset)
    path = os.path.join(run_dir, 'scores.json')
    made_with = dict(setting, flags=list(flags))
    if os.path.exists(path):
        result = files.read_json(path)
        if result['setting'] != made_with:
            raise SystemExit('{}: made with other settings ({}); use another --out'.format(
                path, result['setting']))
        return result
    if os.path.exists(run_dir):
        print('{}: unfinished; trained again from the start'.format(run_dir))
        shutil.rmtree(run_dir)
    os.makedirs(os.path.dirname(run_dir), exist_ok=True)
    curve, spent, step = [], 0., None
    for minutes in spans(setting):
        train(run_dir, preset, minutes - spent, seed, flags, run_dir + '.log')
        spent = minutes
        meta = checkpoints.read_meta(run_dir)
        if meta['step'] == step:  # it reached its ITERS: the later spans train nothing
            break
        step = meta['step']
        results = evaluate(run_dir, setting['n'], stats, seed, grid_path)
        curve.append({'minutes': minutes, 'step': step, 'fid': results['fid']})
    result = dict(results, preset=preset, model=meta['model'], seed=seed, step=step,
                  curve=curve, setting=made_with)
    files.write_json(path, result)
    return result


def minutes_to(curve, threshold=THRESHOLD):
    """The training minutes of the first point at or below ``threshold``, or None."""
    return next((p['minutes'] for p in curve if p['fid'] <= threshold), None)


def cell(values, digits):
    """Mean, with ± std over more than one seed."""
    if len(values) == 1:
        return '{:.{}f}'.format(values[0], digits)
    return '{:.{}f} ± {:.{}f}'.format(np.mean(values), digits, np.std(values), digits)


def row(preset, runs):
    """The table's line of ``preset``'s runs (one per seed)."""
    def of(key, digits, scale=1.):
        return cell([r[key] * scale for r in runs], digits)
    trained = [r['trained']['fid'] for r in runs if 'trained' in r]
    reached = [minutes_to(r['curve']) for r in runs]
    if all(m is not None for m in reached):
        to_threshold = cell(reached, 1)
    else:
        to_threshold = '> {:g} ({} of {})'.format(runs[0]['setting']['minutes'], sum(
            m is not None for m in reached), len(runs))
    cells = [of('fid', 2), cell(trained, 2) if trained else '-', to_threshold,
             of('inception_score', 2), of('kid', 0, scoring.KID_SCALE)]
    cells += [of(name, 3) for name in ('precision', 'recall', 'density', 'coverage')]
    if 'by_class' in runs[0]:
        precision = [np.mean([c['precision'] for c in r['by_class'].values()]) for r in runs]
        recall = [np.mean([c['recall'] for c in r['by_class'].values()]) for r in runs]
        lowest = [np.min([c['recall'] for c in r['by_class'].values()]) for r in runs]
        cells += [cell(precision, 3), '{} ({:.3f})'.format(cell(recall, 3), np.min(lowest))]
    else:
        cells += ['-', '-']
    return '| {} | {} | {} | {} | {} |'.format(
        runs[0]['model'], preset, len(runs), cell([r['step'] for r in runs], 0),
        ' | '.join(cells))


def plot(by_preset, path):
    """FID against training minutes, a line per family (the mean over its seeds, at the
    points every seed reached)."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    figure, axes = pyplot.subplots(figsize=(6, 3.6), dpi=100)
    for preset, runs in by_preset.items():
        length = min(len(r['curve']) for r in runs)
        minutes = [runs[0]['curve'][i]['minutes'] for i in range(length)]
        fid = [np.mean([r['curve'][i]['fid'] for r in runs]) for i in range(length)]
        axes.plot(minutes, fid, '-o', markersize=3, label='{} ({})'.format(
            preset, runs[0]['model']))
    axes.axhline(THRESHOLD, color='grey', linewidth=.8, linestyle=':')
    axes.set_yscale('log')
    axes.set_xlabel('training minutes (2-core CPU)')
    axes.set_ylabel('FID vs held-out digits')
    axes.grid(alpha=.3, which='both')
    axes.legend(fontsize='x-small')
    figure.tight_layout()
    files.write_atomic(path, lambda f: figure.savefig(f, format='png'))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='Other --KEY VALUE flags go to every preset\'s training (e.g. --G_ema 0.999).')
    parser.add_argument('--out', default='output/zoo')
    parser.add_argument('--minutes', type=float, help='training budget per preset '
                                                      '(default 5)')
    parser.add_argument('--curve', type=float, help='minutes between scores (default 1)')
    parser.add_argument('--n', type=int, help='samples scored per preset (default 5000)')
    parser.add_argument('--presets', default=','.join(PRESETS))
    parser.add_argument('--seeds', type=int, default=1,
                        help='run seeds 0..N-1 (in out/seedK/); rows give mean +- std')
    parser.add_argument('--quick', action='store_true', help='check the pipeline in a minute')
    args, flags = parser.parse_known_args(argv)
    presets = [p for p in args.presets.split(',') if p]
    for preset in presets:  # a bad flag is named before any run
        try:
            settings.request(['--preset', preset] + flags)
        except ConfigError as error:
            parser.error(str(error))
    if args.seeds < 1:
        parser.error('--seeds must be at least 1')
    setting = dict(QUICK if args.quick else FULL)
    setting.update({k: v for k, v in (('minutes', args.minutes), ('n', args.n),
                                      ('curve', args.curve)) if v})
    if not 0 < setting['curve'] <= setting['minutes']:
        parser.error('--curve must be in (0, --minutes]')
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    stats = scoring.held_out_digits(os.path.join(args.out, 'digits_test.npz'), SIZE)
    by_preset, total, done = {p: [] for p in presets}, args.seeds * len(presets), 0
    for seed in range(args.seeds):
        for preset in presets:
            grid = os.path.join(args.out, preset + '.png') if seed == 0 else None
            result = one_run(args.out, preset, seed, setting, flags, stats, grid)
            by_preset[preset].append(result)
            done += 1
            elapsed = time.time() - started
            print('[{}/{}] {} seed {}: step {}, FID {}, recall {:.3f} (elapsed {}, eta {})'
                  .format(done, total, preset, seed, result['step'], ' '.join(
                      '{:.1f}'.format(p['fid']) for p in result['curve']), result['recall'],
                          logs.format_duration(elapsed),
                          logs.format_duration(elapsed / done * (total - done))), flush=True)
    lines = ['| model | preset | seeds | steps | ' + ' | '.join(COLUMNS) + ' |',
             '|' + ' --- |' * (4 + len(COLUMNS))]
    lines += [row(preset, runs) for preset, runs in by_preset.items()]
    text = '\n'.join(lines) + '\n'
    files.write_atomic(os.path.join(args.out, 'zoo.md'), lambda f: f.write(text.encode('utf-8')))
    plot(by_preset, os.path.join(args.out, 'zoo.png'))
    files.write_json(os.path.join(args.out, 'zoo.json'), {
        'setting': setting, 'flags': flags, 'seeds': args.seeds, 'results': by_preset,
        'minutes': (time.time() - started) / 60.})
    print(text)
    print('wrote {} (zoo.md, zoo.png, zoo.json, {}.png) in {}'.format(
        args.out, ', '.join(presets), logs.format_duration(time.time() - started)))
    finals = {}
    for preset, runs in by_preset.items():
        finals['fid_' + preset] = float(np.mean([r['fid'] for r in runs]))
        finals['recall_' + preset] = float(np.mean([r['recall'] for r in runs]))
        if 'trained' in runs[0]:
            finals['fid_trained_' + preset] = float(np.mean([r['trained']['fid']
                                                             for r in runs]))
    machine.result(minutes=(time.time() - started) / 60., **finals)


if __name__ == '__main__':
    main()
