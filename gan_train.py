"""Train, resume and fine-tune the zoo's GANs.

    python gan_train.py                                  # the quickstart: a few minutes on a CPU
    python gan_train.py --preset transfer_gan_cifar10 --data_path ./dataset --output_path ./output
    python gan_train.py --preset NAME --KEY VALUE ...    # any setting; --help lists them

A rerun with the same --output_path resumes from its latest checkpoint. --finetune_from CKPT
starts a new run from another run's (or the authors') model weights.
"""
import os
import signal
import sys
import time

import numpy as np

import configs
import datasets
import models
from tflib import checkpoints, device, files, images, logs, params
from tflib.compat import tf
from tflib.config import ConfigError, describe, parse_flags

PROGRAM = 'gan_train.py'
DEFAULT_PRESET = 'quickstart'
N_SAMPLES = 100  # sample grid: 10x10, labels cycling through the classes

TRAIN_DEFAULTS = {
    'dataset': 'mnist_builtin',       # a name in datasets.LOADERS
    'data_path': '',                  # the dataset's file or folder ('' for the built-in digits)
    'split': 'train',
    'DEQUANTIZE': False,              # add U[0, 1) grey-level noise to reals (gan_cifar_resnet)
    'output_path': './output',
    'seed': 0,
    'device': 'auto',                 # auto | npu | gpu | cpu
    'precision_mode': 'allow_mix_precision',  # NPU only
    'mixed_precision': False,         # GPU: fp16 rewrite with loss scaling; CPU: oneDNN bfloat16
    'threads': 0,                     # CPU threads per op (0: all cores)
    'LOG_STEP': 100,                  # a log line every LOG_STEP generator steps
    'SAVE_SAMPLES_STEP': 1000,        # sample grid and loss curve
    'CHECKPOINT_STEP': 1000,
    'keep_checkpoints': 5,
    'MAX_MINUTES': 0.,                # stop (with a checkpoint) after this long; 0: no limit
    'finetune_from': '',              # checkpoint whose model weights start a new run
    'finetune_uncond_to_cond': False,  # tile unconditional BN params over the classes
    'debug': False,                   # tracebacks instead of one-line errors
}
# Settings a resumed run may change; every other model setting must match the checkpoint's.
RESUMABLE_CHANGES = ('ITERS', 'data_format')
USER_ERRORS = (ConfigError, datasets.DataError, device.DeviceError,
               checkpoints.CheckpointError)


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
        sys.exit(0)
    overrides = parse_flags(argv, defaults)
    cfg = dict(defaults)
    cfg.update(preset_cfg)
    cfg.update(overrides)
    cfg['model'] = model_name
    return model, cfg, set(preset_cfg) | set(overrides)


def check_resumable(meta, model_name, model_cfg, output_path):
    """A run directory resumes only with its own model and settings."""
    if meta['model'] != model_name:
        raise ConfigError('{} holds a {} run; use another --output_path for {}'.format(
            output_path, meta['model'], model_name))
    changed = sorted(k for k, v in model_cfg.items()
                     if k not in RESUMABLE_CHANGES and meta['config'].get(k) != v)
    if changed:
        raise ConfigError('{} holds a run with other settings ({}); resume it with the same '
                          'settings or choose another --output_path'.format(
                              output_path, ', '.join('{}={!r}'.format(k, meta['config'].get(k))
                                                     for k in changed)))


def load_data(cfg, model_cfg):
    if cfg['dataset'] != 'mnist_builtin' and not cfg['data_path']:
        raise ConfigError('--data_path is required for dataset {}'.format(cfg['dataset']))
    source = datasets.get(cfg['dataset'])(cfg['data_path'], model_cfg['IMAGE_SIZE'],
                                          model_cfg['CHANNELS'], cfg['split'])
    if model_cfg.get('CONDITIONAL'):
        if source.n_classes is None:
            raise ConfigError('{}: these images have no labels, which a conditional model '
                              'needs; pass --CONDITIONAL false --ACGAN false'.format(source.path))
        if source.n_classes > model_cfg['N_CLASSES']:
            raise ConfigError('{}: {} classes, more than N_CLASSES={}; pass --N_CLASSES {}'
                              .format(source.path, source.n_classes, model_cfg['N_CLASSES'],
                                      source.n_classes))
    return source


def sample_op(gan, model_cfg, seed):
    """Images from fixed noise (and labels cycling through the classes), for the grids."""
    noise = np.random.RandomState(seed).randn(N_SAMPLES, model_cfg['Z_DIM']).astype('float32')
    labels = None
    if model_cfg.get('CONDITIONAL'):
        labels = tf.constant(np.arange(N_SAMPLES) % model_cfg['N_CLASSES'], tf.int32)
    return gan.generator(N_SAMPLES, labels=labels, noise=tf.constant(noise))


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


def train(model, cfg, explicit):
    dev = device.resolve(cfg['device'])
    device.require(dev)
    if 'data_format' not in explicit:
        cfg['data_format'] = device.data_format(dev)
    model_cfg = model.config(**{k: cfg[k] for k in model.DEFAULTS})
    out = cfg['output_path']
    try:
        for sub in ('', 'samples'):
            if not os.path.isdir(os.path.join(out, sub)):
                os.makedirs(os.path.join(out, sub))
    except OSError as error:
        raise ConfigError('--output_path {}: cannot create ({})'.format(out, error.strerror))
    meta = checkpoints.read_meta(out)
    if meta:
        check_resumable(meta, cfg['model'], model_cfg, out)
    files.write_json(os.path.join(out, 'config.json'), cfg)

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(cfg['seed'])
        source = load_data(cfg, model_cfg)
        start = meta['step'] if meta else 0
        real, labels = datasets.batches(source, model_cfg['batch_size'], cfg['seed'] + start,
                                        cfg['DEQUANTIZE'])
        gan = model.build(model_cfg, real, labels if model_cfg.get('CONDITIONAL') else None,
                          wrap_optimizer=lambda opt: device.wrap_optimizer(
                              opt, dev, cfg['mixed_precision']))
        samples = sample_op(gan, model_cfg, cfg['seed'])
        saver = tf.train.Saver(max_to_keep=cfg['keep_checkpoints'])
        init = tf.global_variables_initializer()
    graph.finalize()

    config = device.session_config(dev, cfg['precision_mode'], cfg['mixed_precision'],
                                   cfg['threads'])
    with tf.Session(graph=graph, config=config) as session:
        session.run(init)
        if meta:
            saver.restore(session, meta['checkpoint'])
            print('resuming {} at step {}'.format(meta['checkpoint'], meta['step']))
        elif cfg['finetune_from']:
            report = checkpoints.restore_params(session, cfg['finetune_from'],
                                                params.all_params(),
                                                cfg['finetune_uncond_to_cond'])
            print(finetune_summary(report))
        with Stop() as stop:
            run_loop(session, gan, saver, samples, cfg, model_cfg, dev, bool(meta), stop)


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


def run_loop(session, gan, saver, samples, cfg, model_cfg, dev, resumed, stop):
    out, total = cfg['output_path'], model_cfg['ITERS']
    step = int(session.run(gan.step))
    meta = {'model': cfg['model'], 'config': model_cfg, 'preset': cfg['preset'],
            'data_format': model_cfg['data_format'], 'device': dev}
    history = logs.History(os.path.join(out, 'log.csv'), step if resumed else -1)
    writer = tf.summary.FileWriter(os.path.join(out, 'tensorboard'))
    progress = logs.Progress(total, step)
    deadline = time.time() + 60. * cfg['MAX_MINUTES'] if cfg['MAX_MINUTES'] else None
    interval_start, interval_steps = time.time(), 0
    critic_images = 0
    print('training {} from step {} to {} on {} ({}), output in {}'.format(
        cfg['preset'], step, total, dev, model_cfg['data_format'], os.path.abspath(out)))
    last_saved = step if resumed else None
    while step < total:
        log_now = (step + 1) % cfg['LOG_STEP'] == 0 or step + 1 == total
        n_critic = gan.critic_steps(step)
        for _ in range(n_critic - 1):
            session.run(gan.disc_train_op)
        _, values = session.run([gan.disc_train_op, gan.disc_metrics if log_now else {}])
        _, gen_values = session.run([gan.gen_train_op, gan.gen_metrics if log_now else {}])
        step += 1
        interval_steps += 1
        critic_images += n_critic * model_cfg['batch_size']
        if log_now:
            values.update(gen_values)
            values['learning_rate'] = session.run(gan.learning_rate)
            seconds = (time.time() - interval_start) / interval_steps
            fps = critic_images / (time.time() - interval_start)
            progress.clear()
            print(logs.log_line(step, total, values, seconds, fps, progress.eta(step)),
                  flush=True)
            history.add(step, values)
            writer.add_summary(tf.Summary(value=[
                tf.Summary.Value(tag=k, simple_value=float(v)) for k, v in values.items()]),
                step)
            interval_start, interval_steps, critic_images = time.time(), 0, 0
        out_of_time = deadline is not None and time.time() > deadline
        finishing = step == total or stop.signal or out_of_time
        if step % cfg['SAVE_SAMPLES_STEP'] == 0 or finishing:
            save_samples(session, samples, history, writer, out, step)
        if step % cfg['CHECKPOINT_STEP'] == 0 or finishing:
            checkpoints.save(session, saver, out, step, meta)
            last_saved = step
        progress.update(step)
        if stop.signal or out_of_time:
            progress.clear()
            print('stopped at step {} ({}); rerun the same command to resume'.format(
                step, 'signal {}'.format(stop.signal) if stop.signal else 'MAX_MINUTES'))
            break
    progress.clear()
    writer.close()
    report_outputs(out, last_saved)


def save_samples(session, samples, history, writer, out, step):
    grid = images.grid(images.to_uint8(session.run(samples)))
    path = os.path.join(out, 'samples', 'samples_{:06d}.png'.format(step))
    images.save_png(path, grid)
    if history.rows:
        history.plot(os.path.join(out, 'loss_curve.png'))


def report_outputs(out, step):
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
    try:
        model, cfg, explicit = settings(argv)
        train(model, cfg, explicit)
    except USER_ERRORS + (tf.errors.OpError,) as error:
        message = error_message(error)
        if debug or message is None:
            raise
        print('{}: error: {}'.format(PROGRAM, message), file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
