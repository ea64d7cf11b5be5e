"""Train, resume and fine-tune the zoo's GANs.

    python gan_train.py                                  # the quickstart: a few minutes on a CPU
    python gan_train.py --preset transfer_gan_cifar10 --data_path ./dataset --output_path ./output
    python gan_train.py --preset NAME --KEY VALUE ...    # any setting; --help lists them

A rerun with the same --output_path resumes from its latest checkpoint. --finetune_from CKPT
starts a new run from another run's (or the authors') model weights.
"""
import collections
import contextlib
import functools
import importlib.util
import os
import signal
import sys
import time

import numpy as np

import configs
import datasets
import freeze_graph
import gan_eval
import models
from tflib import checkpoints, cli, device, distributed, files, images, logs, params
from tflib import gan as gan_lib
from tflib.compat import tf
from tflib.config import ConfigError, describe, parse_flags
from tflib.metrics import classifier, scores

PROGRAM = 'gan_train.py'
DEFAULT_PRESET = 'quickstart'
N_SAMPLES = 100  # sample grid: 10x10, labels cycling through the classes
GRID_CELL = 32  # smaller samples (PGAN's first phases) are enlarged to this in the grids

TRAIN_DEFAULTS = {
    'dataset': 'mnist_builtin',       # a name in datasets.LOADERS
    'data_path': '',                  # the dataset's file or folder ('' for the built-in digits)
    'split': 'train',
    'classes': '',                    # only these labels, renumbered 0..k-1 (e.g. 5,6,7,8,9)
    'max_images': 0,                  # > 0: a random subset (fixed by --seed) of this many
    'DEQUANTIZE': False,              # add U[0, 1) grey-level noise to reals (gan_cifar_resnet)
    'output_path': './output',
    'seed': 0,
    'device': 'auto',                 # auto | npu | gpu | cpu
    'distributed': 'auto',            # auto | none | horovod | hccl (auto: from the launcher)
    'lr_scaling': 'none',             # data-parallel learning rates x: none | linear | sqrt
    'precision_mode': 'allow_mix_precision',  # NPU only
    'mixed_precision': False,         # GPU: fp16 rewrite with loss scaling; CPU: oneDNN bfloat16
    'threads': 0,                     # CPU threads per op (0: all cores)
    'LOG_STEP': 100,                  # a log line every LOG_STEP generator steps
    'SAVE_SAMPLES_STEP': 1000,        # sample grid and loss curve
    'CHECKPOINT_STEP': 1000,
    'keep_checkpoints': 5,
    'EPOCHS': 0.,                     # when > 0, sets ITERS: passes over the data by critic batches
    'MAX_MINUTES': 0.,                # stop (with a checkpoint) after this long; 0: no limit
    'INCEPTION_FREQUENCY': 0,         # Inception Score every K generator steps (0: never)
    'N_INCEPTION': 10000,             # images per score (the port: 50,000)
    'classifier': '',                 # frozen classifier .pb ('' : built-in digits, 1 channel)
    'EXPORT_AT_END': False,           # score, then freeze G to generator.pb / .onnx at the end
    'finetune_from': '',              # checkpoint whose model weights start a new run
    'finetune_uncond_to_cond': False,  # tile unconditional BN params over the classes
    'fused_step': True,               # a generator iteration in one session call (tflib/gan.py)
    'iterations_per_loop': 1,         # NPU: iterations per session call, sunk to the device
    # Ascend's debugging switches (the ModelZoo template's); paths default under output_path.
    'over_dump': False,               # dump the operators that overflow
    'over_dump_path': '',
    'data_dump_flag': False,          # dump operator data at data_dump_step
    'data_dump_step': '10',           # e.g. 10, 0|5|10, 0-5
    'data_dump_path': '',
    'profiling': False,               # Ascend profiler (training and task traces, AI CPU)
    'profiling_dump_path': '',
    'autotune': False,                # tune operators (RL, GA) while compiling
    'debug': False,                   # tracebacks instead of one-line errors
}
class Diverged(RuntimeError):
    """The weights went NaN or Inf: the run stops before they reach a checkpoint."""


USER_ERRORS = (ConfigError, datasets.DataError, device.DeviceError,
               checkpoints.CheckpointError, classifier.ScorerError, freeze_graph.ExportError,
               Diverged, OSError)


def settings(argv):
    """(model module, effective config, keys set by the preset or the command line)."""
    preset = DEFAULT_PRESET
    for i, arg in enumerate(argv):
        if arg.startswith('--preset='):
            preset = arg.split('=', 1)[1]
        elif arg == '--preset' and i + 1 < len(argv):
            preset = argv[i + 1]
    model_name, preset_cfg = configs.load(preset)
    model = models.get(model_name)
    defaults = dict(TRAIN_DEFAULTS, preset=preset, **model.DEFAULTS)
    unknown = sorted(set(preset_cfg) - set(defaults))
    if unknown:
        raise ConfigError('preset {} sets unknown key(s): {}'.format(preset, ', '.join(unknown)))
    if '--help' in argv or '-h' in argv:
        print(__doc__)
        print('presets: {}\n\nsettings (preset {}, model {}):\n{}'.format(
            ', '.join(configs.names()), preset, model_name, describe(defaults)))
        aliases = getattr(model, 'FLAG_ALIASES', {})
        if aliases:
            print('also accepted: {}'.format(', '.join('--{} (--{})'.format(a, k) for a, k in
                                                       sorted(aliases.items()))))
        sys.exit(0)
    overrides = parse_flags(argv, defaults, getattr(model, 'FLAG_ALIASES', None))
    cfg = dict(defaults)
    cfg.update(preset_cfg)
    cfg.update(overrides)
    if 'ITERS' in overrides and 'EPOCHS' not in overrides:
        cfg['EPOCHS'] = 0.  # an explicit --ITERS outranks a preset's epochs
    cfg['model'] = model_name
    return model, cfg, set(preset_cfg) | set(overrides)


LOOP_ALIGNED = ('LOG_STEP', 'SAVE_SAMPLES_STEP', 'CHECKPOINT_STEP', 'INCEPTION_FREQUENCY')


def align_to_loops(cfg, model_cfg):
    """With --iterations_per_loop K, logs, grids, checkpoints, scores and the end land on loop
    boundaries: those settings and ITERS are rounded up to multiples of K, and said so."""
    loops = cfg['iterations_per_loop']
    if loops < 1:
        raise ConfigError('--iterations_per_loop must be at least 1, got {}'.format(loops))
    rounded = []
    for values, key in [(cfg, k) for k in LOOP_ALIGNED] + [(model_cfg, 'ITERS')]:
        aligned = -(-values[key] // loops) * loops
        if aligned != values[key]:
            rounded.append('{} {} -> {}'.format(key, values[key], aligned))
            values[key] = cfg[key] = aligned
    if rounded:
        print('--iterations_per_loop {}: rounded up to multiples: {}'.format(
            loops, ', '.join(rounded)))


def check_loops(cfg, step, schedule, dev, critic_steps):
    """Loops of K iterations fit the run: it starts, and its phases start and end, on a
    multiple of K; on an NPU, whose device loop repeats the fused op, every iteration also
    has the same critic steps."""
    loops = cfg['iterations_per_loop']
    if loops == 1:
        return
    if dev == 'npu' and not cfg['fused_step']:
        raise ConfigError('--iterations_per_loop {} repeats the fused step on the NPU; it '
                          'needs --fused_step true'.format(loops))
    if step % loops:
        raise ConfigError('--iterations_per_loop {}: the run resumes at step {}, not a multiple;'
                          ' pass a divisor of {}'.format(loops, step, step))
    for phase in schedule:
        if phase.start % loops or phase.end % loops:
            raise ConfigError('--iterations_per_loop {}: phase {} spans steps {} to {}; pass a '
                              'divisor of both'.format(loops, phase.name, phase.start, phase.end))
    if dev == 'npu' and len(set(critic_steps(s) for s in range(step, schedule[-1].end))) > 1:
        raise ConfigError('--iterations_per_loop {} on an NPU repeats one iteration, but this '
                          'model varies its critic steps per iteration (wgan: pass '
                          '--warmup_Diters equal to --Diters)'.format(loops))


NPU_SWITCHES = ('over_dump', 'data_dump_flag', 'profiling', 'autotune')


def npu_debug(cfg, dev):
    """Ascend's dump, profiling and tuning switches from the flags, with their folders (by
    default under --output_path) created: the adapter wants the dump folder to exist. It has
    one dump folder, so a data dump and an overflow dump share data_dump_path."""
    switched = [key for key in NPU_SWITCHES if cfg[key]]
    if dev != 'npu':
        if switched:
            print('note: {} only act on an Ascend NPU; ignored on {}'.format(
                ', '.join('--' + k for k in switched), dev))
        return device.NO_DEBUG

    def folder(on, key, default):
        if not on:
            return ''
        path = os.path.abspath(cfg[key] or os.path.join(cfg['output_path'], default))
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            raise ConfigError('--{} {}: cannot create ({})'.format(key, path, error.strerror))
        return path

    dump = folder(cfg['data_dump_flag'], 'data_dump_path', 'data_dump') or \
        folder(cfg['over_dump'], 'over_dump_path', 'overflow_dump')
    return device.NpuDebug(dump, cfg['data_dump_step'] if cfg['data_dump_flag'] else '',
                           cfg['over_dump'], folder(cfg['profiling'], 'profiling_dump_path',
                                                    'profiling'), cfg['autotune'])


def check_resumable(meta, model, model_cfg, output_path):
    """A run directory resumes only with its own model and architecture; other changed
    settings (LR, ITERS, batch size, ...) are allowed and listed."""
    name = models.name(model)
    if meta['model'] != name:
        raise ConfigError('{} holds a {} run; use another --output_path for {}'.format(
            output_path, meta['model'], name))
    saved = meta['config']
    changed = sorted(k for k, v in model_cfg.items() if saved.get(k) != v)
    clashes = [k for k in changed if k in model.ARCHITECTURE]
    if clashes:
        raise ConfigError('{} holds a run with another architecture ({}); resume it with the '
                          'same settings or choose another --output_path'.format(
                              output_path, ', '.join('{}={!r}'.format(k, saved.get(k))
                                                     for k in clashes)))
    if changed:
        print('settings changed since the checkpoint: {}'.format(', '.join(
            '{} {!r} -> {!r}'.format(k, saved.get(k), model_cfg[k]) for k in changed)))


def load_data(cfg, model_cfg):
    loader = datasets.get(cfg['dataset'])
    if cfg['max_images'] < 0:
        raise ConfigError('--max_images must be 0 (all) or a number of images, got {}'.format(
            cfg['max_images']))
    if cfg['dataset'] != 'mnist_builtin' and not cfg['data_path']:
        raise ConfigError('--data_path is required for dataset {}'.format(cfg['dataset']))
    source = loader(cfg['data_path'], model_cfg['IMAGE_SIZE'], model_cfg['CHANNELS'],
                    cfg['split'])
    if cfg['classes'] or cfg['max_images']:
        source = datasets.base.select(source, parse_classes(cfg['classes']), cfg['max_images'],
                                      cfg['seed'])
        print('training on {} images{}'.format(len(source), ' of classes {}'.format(
            cfg['classes']) if cfg['classes'] else ''))
    if model_cfg.get('CONDITIONAL'):
        if source.n_classes is None:
            raise ConfigError('{}: these images have no labels, which a conditional model '
                              'needs; pass --CONDITIONAL false --ACGAN false'.format(source.path))
        if source.n_classes > model_cfg['N_CLASSES']:
            raise ConfigError('{}: {} classes, more than N_CLASSES={}; pass --N_CLASSES {}'
                              .format(source.path, source.n_classes, model_cfg['N_CLASSES'],
                                      source.n_classes))
    return source


def parse_classes(text):
    try:
        return [int(c) for c in text.split(',')] if text.strip() else []
    except ValueError:
        raise ConfigError('--classes expects comma-separated labels like 5,6,7, got {!r}'.format(
            text))


def sample_op(gan, model_cfg, seed=None):
    """N_SAMPLES images, labels cycling through the classes, and their noise: fixed for the
    grids (``seed``); for scores a placeholder fed with the host's draws, as a device graph
    wants its random inputs (tf.random_normal has no AI Core kernel on Ascend)."""
    if seed is None:
        noise = tf.placeholder(tf.float32, [N_SAMPLES, model_cfg['Z_DIM']], name='score_noise')
    else:
        noise = tf.constant(np.random.RandomState(seed).randn(
            N_SAMPLES, model_cfg['Z_DIM']).astype('float32'))
    labels = None
    if model_cfg.get('CONDITIONAL'):
        labels = tf.constant(np.arange(N_SAMPLES) % model_cfg['N_CLASSES'], tf.int32)
    return gan.generator(N_SAMPLES, labels=labels, noise=noise), noise


class Stop(object):
    """While active, SIGTERM and SIGINT ask the loop to checkpoint and leave after the step."""
    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self.signal = None
        self.previous = [signal.signal(sig, self.handle) for sig in self.SIGNALS]
        return self

    def __exit__(self, *_):
        for sig, handler in zip(self.SIGNALS, self.previous):
            signal.signal(sig, handler)

    def handle(self, signum, _frame):
        self.signal = signum


Job = collections.namedtuple('Job', ['model', 'cfg', 'model_cfg', 'source', 'dev', 'cluster',
                                     'stop', 'deadline'])


def train(model, cfg, explicit):
    dev = device.resolve(cfg['device'])
    device.require(dev)
    cluster = distributed.start(cfg['distributed'], dev)
    if not cluster.is_chief:  # rank 0 alone reports
        with open(os.devnull, 'w') as quiet, contextlib.redirect_stdout(quiet):
            return train_ranks(model, cfg, explicit, dev, cluster)
    return train_ranks(model, cfg, explicit, dev, cluster)


def train_ranks(model, cfg, explicit, dev, cluster):
    if 'data_format' not in explicit:
        cfg['data_format'] = device.data_format(dev)
    model_cfg = model.config(**{k: cfg[k] for k in model.DEFAULTS})
    source = load_data(cfg, model_cfg)
    if cluster.parallel:
        source = datasets.base.shard(source, cluster.rank, cluster.size)
        print('data-parallel over {} ranks ({}): {} images each, a global batch of {} x the '
              'batch size, learning rates x {:g} (--lr_scaling {})'.format(
                  cluster.size, cluster.engine, len(source), cluster.size,
                  distributed.lr_factor(cfg['lr_scaling'], cluster.size), cfg['lr_scaling']))
    if cfg['EPOCHS']:
        if not model_cfg.get('batch_size'):
            raise ConfigError('--EPOCHS needs one --batch_size; {} schedules its training in '
                              'images per phase (set those, or --ITERS)'.format(cfg['model']))
        model_cfg['ITERS'] = cfg['ITERS'] = gan_lib.iterations_for_epochs(
            cfg['EPOCHS'], len(source) // model_cfg['batch_size'],
            functools.partial(model.critic_steps, model_cfg))
        print('{} epochs of {} images: {} generator steps'.format(
            cfg['EPOCHS'], len(source) * cluster.size, model_cfg['ITERS']))
    align_to_loops(cfg, model_cfg)
    out = cfg['output_path']
    if cluster.is_chief:
        try:
            for sub in ('', 'samples'):
                if not os.path.isdir(os.path.join(out, sub)):
                    os.makedirs(os.path.join(out, sub))
        except OSError as error:
            raise ConfigError('--output_path {}: cannot create ({})'.format(out,
                                                                          error.strerror))
    meta = checkpoints.read_meta(out)  # every rank: the step to start from
    if meta:
        check_resumable(meta, model, model_cfg, out)
    if cluster.is_chief:
        files.write_json(os.path.join(out, 'config.json'), cfg)

    deadline = time.time() + 60. * cfg['MAX_MINUTES'] if cfg['MAX_MINUTES'] else None
    step = meta['step'] if meta else 0
    schedule = models.phases(model, model_cfg)
    check_loops(cfg, step, schedule, dev, functools.partial(model.critic_steps, model_cfg))
    trained = step < schedule[-1].end
    if not trained:
        print('{} has trained its {} steps; pass a larger --ITERS to go on'.format(out, step))
    with Stop() as stop:
        job = Job(model, cfg, model_cfg, source, dev, cluster, stop, deadline)
        for number, phase in enumerate(schedule, 1):
            if step >= phase.end:
                continue
            if phase.name:
                print('phase {}/{}: {}, steps {} to {}'.format(number, len(schedule), phase.name,
                                                               phase.start, phase.end))
            step = train_phase(job, phase, step, number == len(schedule))
            if step < phase.end:
                break
    if cluster.is_chief:
        report_outputs(out)
        if trained and cfg['EXPORT_AT_END'] and not stop.signal:  # finished or out of time
            export(out)


PhaseGraph = collections.namedtuple('PhaseGraph', [
    'graph', 'gan', 'pipeline', 'samples', 'finite', 'saver', 'loop_op', 'load_loop', 'init',
    'carried', 'broadcast', 'vote', 'batch_size'])


def phase_graph(job, phase, start):
    """The finalized graph of one phase, from generator step ``start``: the model's train ops
    on the input pipeline, with the device's optimizer wrapping (and, on NPU with
    --iterations_per_loop K, the loop op), the sample ops and what the loop runs besides."""
    cfg, cluster = job.cfg, job.cluster
    phase_cfg = dict(job.model_cfg, **phase.settings)
    for key in models.learning_rates(job.model):
        phase_cfg[key] *= distributed.lr_factor(cfg['lr_scaling'], cluster.size)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(cfg['seed'])
        pipeline = datasets.base.step_inputs(job.source, phase_cfg['batch_size'], cfg['seed'],
                                             start, phase.start, cfg['DEQUANTIZE'], cluster.rank)
        gan = job.model.build(phase_cfg, pipeline, lambda opt: device.wrap_optimizer(
            distributed.average_gradients(opt, cluster), job.dev, cfg['mixed_precision'],
            cluster.parallel))
        samples = (sample_op(gan, phase_cfg, cfg['seed']), sample_op(gan, phase_cfg))
        finite = gan_lib.all_finite(params.all_params())
        saver = tf.train.Saver(max_to_keep=cfg['keep_checkpoints'])
        loop_op, load_loop = None, None
        if job.dev == 'npu':  # after the Saver: its loop variables are no model state
            loop_op, load_loop = device.loop_op(gan.train_op, cfg['iterations_per_loop'])
        init = tf.global_variables_initializer()
        carried = gan_lib.carried_state()
        broadcast = distributed.broadcast_op(cluster, tf.global_variables())
        vote = distributed.stop_vote(cluster)
    graph.finalize()
    return PhaseGraph(graph, gan, pipeline, samples, finite, saver, loop_op, load_loop, init,
                      carried, broadcast, vote, phase_cfg['batch_size'])


def train_phase(job, phase, start, last):
    """Train one phase in its own graph and session from step ``start``; rank 0 restores the
    run's latest checkpoint (all of it when written inside this phase, the carried state of
    tflib.gan.carried_state when it ends the last phase) and every rank then takes rank 0's
    variables. Returns the step reached. With EXPORT_AT_END, the samples are scored when the
    run ends here (finished, or out of time)."""
    cfg, cluster = job.cfg, job.cluster
    built = phase_graph(job, phase, start)
    gan = built.gan
    config = device.session_config(job.dev, cfg['precision_mode'], cfg['mixed_precision'],
                                   cfg['threads'], cluster.local_rank if cluster.parallel
                                   else None, cfg['iterations_per_loop'], npu_debug(cfg, job.dev))
    with tf.Session(graph=built.graph, config=config) as session:
        session.run([built.init, built.pipeline.initializer])
        if built.load_loop is not None:
            built.load_loop(session)
        meta = checkpoints.read_meta(cfg['output_path']) if cluster.is_chief else None
        if meta:
            restore_phase(session, meta, phase, built.carried)
        elif cluster.is_chief and cfg['finetune_from']:
            report = checkpoints.restore(session, cfg['finetune_from'], params.all_params(),
                                         cfg['finetune_uncond_to_cond'])
            print(finetune_summary(report))
        if built.broadcast is not None:
            gan.step.load(start, session)
            session.run(built.broadcast)
        run = Run(session, gan, built.saver, built.samples, cfg, job.model_cfg, job.dev,
                  built.batch_size, cluster.is_chief, built.finite, built.loop_op)
        run.loop(job.stop, phase.end, job.deadline, built.vote)
        ended_here = last or run.step < phase.end
        if cluster.is_chief and cfg['EXPORT_AT_END'] and not job.stop.signal and ended_here:
            run.score(final=True)
        run.close()
        return run.step


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
        ' ({})'.format(', '.join(new_layers(report['missing']))) if report['missing'] else ''))
    if report['mismatched']:
        raise checkpoints.CheckpointError('{}: shapes differ from this phase\'s graph: {}'.format(
            meta['checkpoint'], '; '.join(report['mismatched'])))


def new_layers(keys):
    """The layers (key scopes) a list of variable keys belongs to."""
    return sorted(set(key.split('/')[0] for key in keys))


def finetune_summary(report):
    line = 'fine-tuning from {}: restored {} keys'.format(report['source'],
                                                           len(report['restored']))
    if report['tiled']:
        line += ', {} tiled unconditional -> conditional'.format(len(report['tiled']))
    line += ', missing {}'.format(len(report['missing']))
    if report['missing']:
        line += ' ({})'.format(', '.join(report['missing']))
    line += ', shape-mismatched {}'.format(len(report['mismatched']))
    if report['mismatched']:
        line += ' ({})'.format('; '.join(report['mismatched']))
    return line


class Run(object):
    """A training run in a session: the step loop and what it leaves in output_path."""

    def __init__(self, session, gan, saver, samples, cfg, model_cfg, dev, batch_size,
                 chief=True, finite=None, loop_op=None):
        self.session, self.gan, self.saver, self.loop_op = session, gan, saver, loop_op
        self.batch_size, self.chief, self.finite = batch_size, chief, finite
        (self.grid_samples, _), (self.score_samples, self.score_noise) = samples
        self.classifier = self.progress = None
        self.cfg, self.model_cfg, self.out = cfg, model_cfg, cfg['output_path']
        self.step = int(session.run(gan.step))
        self.meta = {'model': cfg['model'], 'config': model_cfg, 'preset': cfg['preset'],
                     'data_format': model_cfg['data_format'], 'device': dev}
        self.history = self.writer = None
        if chief:
            # Rows past the step this run starts from belong to a lost future: they go.
            self.history = logs.History(os.path.join(self.out, 'log.csv'), self.step)
            self.writer = tf.summary.FileWriter(os.path.join(self.out, 'tensorboard'))
        print('training {} from step {} to {} on {} ({}), output in {}'.format(
            cfg['preset'], self.step, model_cfg['ITERS'], dev, model_cfg['data_format'],
            os.path.abspath(self.out)))

    def train_loop(self, iterations, fetch_metrics):
        """``iterations`` generator iterations: one session call of the NPU's loop op where
        there is one (``loop_op``), else one iteration at a time; the metrics of the last."""
        if self.loop_op is not None:
            self.step += iterations
            return self.session.run([self.loop_op, self.gan.train_metrics if fetch_metrics
                                     else {}])[1]
        for done in range(1, iterations + 1):
            values = self.train_step(fetch_metrics and done == iterations)
        return values

    def train_step(self, fetch_metrics):
        """One generator iteration: its critic steps, then the generator step. Fused, one
        session call per pipeline element (one, unless the iteration has more critic steps
        than an element holds); step by step, the element is fetched and fed back to each
        step's op."""
        run, gan = self.session.run, self.gan
        blocks = gan.critic_steps(self.step) // gan.fused_critic_steps
        self.step += 1
        if self.cfg['fused_step']:
            for _ in range(blocks - 1):
                run(gan.critic_block_op)
            return run([gan.train_op, gan.train_metrics if fetch_metrics else {}])[1]
        for _ in range(blocks):
            feed = {gan.inputs[k]: v for k, v in run(gan.inputs).items()}
            for index in range(gan.fused_critic_steps):
                feed[gan.critic_index] = index
                values = run([gan.disc_train_op, gan.disc_metrics if fetch_metrics else {}],
                             feed)[1]
        values.update(run([gan.gen_train_op, gan.gen_metrics if fetch_metrics else {}], feed)[1])
        return values

    def log(self, values, seconds_per_step, fps, eta):
        values['learning_rate'] = self.session.run(self.gan.learning_rate)
        print(logs.log_line(self.step, self.model_cfg['ITERS'], values, seconds_per_step, fps,
                            eta), flush=True)
        if not self.chief:
            return
        self.history.add(self.step, values)
        self.writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag=k, simple_value=float(v)) for k, v in values.items()]),
            self.step)

    def save_samples(self):
        grid = images.grid(images.to_uint8(self.session.run(self.grid_samples)),
                           min_size=GRID_CELL)
        path = os.path.join(self.out, 'samples', 'samples_{:06d}.png'.format(self.step))
        png = images.save_png(path, grid)
        image = tf.Summary.Image(height=grid.shape[0], width=grid.shape[1],
                                 colorspace=grid.shape[2], encoded_image_string=png)
        self.writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag='samples', image=image)]),
                                self.step)
        if self.history.rows:
            self.history.plot(os.path.join(self.out, 'loss_curve.png'))

    def close(self):
        if self.writer is not None:
            self.writer.close()
        if self.classifier is not None:
            self.classifier.close()

    def score(self, final=False):
        """Inception Score of N_INCEPTION fresh samples with the run's classifier."""
        if self.classifier is None:
            self.classifier = classifier.FrozenClassifier(gan_eval.default_classifier(
                self.cfg['classifier'], self.model_cfg['CHANNELS']))
        n, rng = self.cfg['N_INCEPTION'], np.random.default_rng(
            [self.cfg['seed'] % 2 ** 32, self.step])
        generated = np.concatenate([self.session.run(self.score_samples, {
            self.score_noise: rng.standard_normal(self.score_noise.shape.as_list(), np.float32)})
            for _ in range(-(-n // N_SAMPLES))])[:n]
        mean, std = scores.inception_score(self.classifier.run(
            classifier.to_pixels(generated))[1])
        if final:
            print(gan_eval.inception_line(n, mean, std))
        else:
            label = gan_eval.inception_label(n)
            print('inception at step {}: {} score : {:.4f} {}_std: {:.4f}'.format(
                self.step, label, mean, label, std))
        self.writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag='inception_score', simple_value=mean)]), self.step)
        self.writer.flush()
        return mean, std

    def loop(self, stop, end, deadline, vote=None):
        """Train to step ``end``, or until a signal or the deadline, checkpointing on the way
        out. With ``vote`` (data-parallel ranks) rank 0's wish to stop, broadcast each step,
        stops every rank."""
        cfg, total = self.cfg, self.model_cfg['ITERS']
        progress = self.progress = logs.Progress(total, self.step)
        interval_start, interval_steps, critic_images = time.time(), 0, 0
        loops = cfg['iterations_per_loop']
        while self.step < end:
            done = self.step + loops
            log_now = done % cfg['LOG_STEP'] == 0 or done == end
            critic_images += sum(self.gan.critic_steps(s) for s in range(self.step, done)) * \
                self.batch_size
            values = self.train_loop(loops, log_now)
            interval_steps += loops
            if log_now:
                elapsed = time.time() - interval_start
                progress.clear()
                self.log(values, elapsed / interval_steps, critic_images / elapsed,
                         progress.eta(self.step))
                interval_start, interval_steps, critic_images = time.time(), 0, 0
            out_of_time = deadline is not None and time.time() > deadline
            halt = bool(stop.signal) or out_of_time
            if vote is not None:
                halt = bool(self.session.run(vote[1], {vote[0]: int(halt)}))
            self.save(self.step == end or halt, values if log_now else None)
            progress.update(self.step)
            if halt:
                progress.clear()
                print('stopped at step {} ({}); rerun the same command to resume'.format(
                    self.step, 'signal {}'.format(stop.signal) if stop.signal else
                    'MAX_MINUTES'))
                break
        progress.clear()

    def save(self, finishing, logged=None):
        """What the run leaves after this step: grids, checkpoints, scores when due (rank 0);
        never from non-finite weights, checked on these and on log steps (``logged``: the
        values just logged) by every rank, so all stop together."""
        cfg = self.cfg
        due = [self.step % cfg['SAVE_SAMPLES_STEP'] == 0 or finishing,
               self.step % cfg['CHECKPOINT_STEP'] == 0 or finishing,
               cfg['INCEPTION_FREQUENCY'] and self.step % cfg['INCEPTION_FREQUENCY'] == 0]
        if any(due) or logged is not None:
            self.check_finite(logged)
        if not self.chief:
            return
        if due[0]:
            self.save_samples()
        if due[1]:
            checkpoints.save(self.session, self.saver, self.out, self.step, self.meta)
        if due[2]:
            self.progress.clear()
            self.score()

    def check_finite(self, values=None):
        """Stop, keeping the last checkpoint, when the weights went NaN or Inf. A non-finite
        logged loss alone is reported: with loss scaling its step was skipped."""
        bad = sorted(k for k, v in (values or {}).items() if not np.isfinite(v))
        if self.finite is None or self.session.run(self.finite):
            if bad:
                print('warning: step {}: {} not finite (weights still finite)'.format(
                    self.step, ', '.join(bad)))
            return
        meta = checkpoints.read_meta(self.out)
        raise Diverged('step {}: the weights are not finite{}; stopped without saving them. '
                       'The last good checkpoint is {}: resume from it, e.g. with a lower '
                       'learning rate'.format(
                           self.step, ' (nor {})'.format(', '.join(bad)) if bad else '',
                           meta['checkpoint'] if meta else 'none (none was written)'))


def export(out):
    """Freeze the finished generator to .pb and, where tf2onnx is installed, .onnx."""
    pb = os.path.join(out, 'generator.pb')
    flags = ['--ckpt', out, '--output', pb]
    if importlib.util.find_spec('tf2onnx') and importlib.util.find_spec('onnxruntime'):
        flags += ['--onnx', pb[:-3] + '.onnx']
    else:
        print('(no ONNX export: pip install tf2onnx onnxruntime)')
    if freeze_graph.main(flags) != 0:
        raise freeze_graph.ExportError('could not export the generator of {}'.format(out))


def report_outputs(out):
    meta = checkpoints.read_meta(out)
    print('checkpoint: {}'.format(meta['checkpoint'] if meta else 'none'))
    sample_dir = os.path.join(out, 'samples')
    grids = sorted(os.listdir(sample_dir)) if os.path.isdir(sample_dir) else []
    if grids:
        print('samples:    {}'.format(os.path.join(sample_dir, grids[-1])))
    if os.path.exists(os.path.join(out, 'loss_curve.png')):
        print('loss curve: {}'.format(os.path.join(out, 'loss_curve.png')))


def error_message(error):
    """The one-line message of a user error, also when TF wrapped it (errors raised while
    tf.data reads a file arrive inside a TF OpError)."""
    if isinstance(error, tf.errors.OpError):
        for line in str(error.message).splitlines():
            if 'DataError:' in line:
                return line.split('DataError:', 1)[1].strip()
        return None
    return str(error)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    debug = any(a in ('--debug', '--debug=true', '--debug=True') for a in argv)
    return cli.guarded(PROGRAM, lambda: train(*settings(argv)),
                       USER_ERRORS + (tf.errors.OpError,), debug, error_message)


if __name__ == '__main__':
    sys.exit(main())
