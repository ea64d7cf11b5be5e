"""A training run's settings, resolved once and read-only after.

The defaults of the loop (``TRAIN_DEFAULTS``) and of the model, then the preset, then the
command line's ``--KEY VALUE`` flags; then what only the run can know: the device's data
format, the number of classes of the data, ``EPOCHS`` as generator steps, loop alignment.
``Settings.run`` holds the loop's settings, ``Settings.model_cfg`` the model's (what a
checkpoint's meta.json records); no key is in both.
"""
import collections
import functools
import types

import configs
import models
from zoo import data
from tflib import device, distributed
from tflib import gan as gan_lib
from tflib.config import ConfigError, describe, parse_flags, parse_value

DEFAULT_PRESET = 'quickstart'

TRAIN_DEFAULTS = {
    'dataset': 'mnist_builtin',       # a name in datasets.DATASETS
    'data_path': '',                  # the dataset's file or folder ('' for the built-in digits)
    'split': 'train',
    'classes': '',                    # only these labels, renumbered 0..k-1 (e.g. 5,6,7,8,9)
    'max_images': 0,                  # > 0: a random subset (fixed by --seed) of this many
    'holdout': 0,                     # of those, images kept out of training: --ada_target's
    'DEQUANTIZE': False,              # add U[0, 1) grey-level noise to reals (gan_cifar_resnet)
    'output_path': './output',
    'seed': 0,
    'device': 'auto',                 # auto | npu | gpu | cpu
    'distributed': 'auto',            # auto | none | horovod | hccl (auto: from the launcher)
    'lr_scaling': 'none',             # data-parallel learning rates x: none | linear | sqrt
    'precision_mode': 'allow_mix_precision',  # NPU only
    'mixed_precision': 'false',       # false | true | auto. GPU (true): fp16 rewrite with loss
                                      # scaling; CPU: oneDNN bfloat16 (auto: where it is faster)
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
    'fid_stats': '',                  # real statistics .npz (gan_eval.py --make_stats): scores
                                      # add FID, KID, precision, recall, density, coverage
    'EXPORT_AT_END': False,           # score, then freeze G to generator.pb / .onnx at the end
    'finetune_from': '',              # checkpoint whose model weights start a new run
    'finetune_uncond_to_cond': False,  # tile unconditional BN params over the classes
    'freeze_d': 0,                    # fine-tuning: the critic's first K blocks stay as loaded
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
# Logs, grids, checkpoints and scores land on loop boundaries with --iterations_per_loop.
LOOP_ALIGNED = ('LOG_STEP', 'SAVE_SAMPLES_STEP', 'CHECKPOINT_STEP', 'INCEPTION_FREQUENCY')

Request = collections.namedtuple('Request', [
    'model',     # models.Model
    'preset',    # its name
    'values',    # {key: value}: the defaults, the preset's values, the flags'
    'explicit',  # the keys the preset or the flags set
    'flags',     # the keys the flags set
])

Settings = collections.namedtuple('Settings', [
    'model',      # models.Model
    'preset',
    'run',        # the loop's settings (TRAIN_DEFAULTS' keys), read-only
    'model_cfg',  # the model's config, read-only: what meta.json records
    'train_cfg',  # model_cfg with the learning rates scaled for data parallelism: the graphs'
])


def preset_of(argv):
    """The --preset of a command line, or the default."""
    preset = DEFAULT_PRESET
    for i, arg in enumerate(argv):
        if arg.startswith('--preset='):
            preset = arg.split('=', 1)[1]
        elif arg == '--preset' and i + 1 < len(argv):
            preset = argv[i + 1]
    return preset


def add_arguments(parser, helps):
    """Add to an argparse ``parser`` the training settings other programs share, ``helps``
    {key: help text}, each with its default from TRAIN_DEFAULTS and parsed as gan_train.py
    parses it: one home for both."""
    for key, text in helps.items():
        default = TRAIN_DEFAULTS[key]
        parser.add_argument('--' + key, default=default,
                            type=functools.partial(parse_value, key, default=default),
                            help='{} (default: {!r})'.format(text, default))


def check_apart(model):
    """A model's settings and the loop's are apart: a shared key would have one value for two
    meanings, the model's silently winning."""
    shared = sorted(set(model.defaults) & (set(TRAIN_DEFAULTS) | {'preset'}))
    if shared:
        raise TypeError('models/{}.py DEFAULTS share {} with the loop\'s settings '
                        '(zoo/settings.py TRAIN_DEFAULTS); rename them'.format(
                            model.name, ', '.join(shared)))


def _preset(argv):
    """(preset name, model, the defaults, the preset's values)."""
    preset = preset_of(argv)
    model_name, preset_values = configs.load(preset)
    model = models.get(model_name)
    check_apart(model)
    defaults = dict(TRAIN_DEFAULTS, preset=preset, **model.defaults)
    unknown = sorted(set(preset_values) - set(defaults))
    if unknown:
        raise ConfigError('preset {} sets unknown key(s): {}'.format(preset, ', '.join(unknown)))
    return preset, model, defaults, preset_values


def help_text(argv):
    """Every setting with the value it would run with under the command line's preset."""
    preset, model, defaults, preset_values = _preset(argv)
    text = 'presets: {}\n\nsettings (preset {}, model {}):\n{}'.format(
        ', '.join(configs.names()), preset, model.name, describe(dict(defaults, **preset_values)))
    if model.flag_aliases:
        text += '\nalso accepted: {}'.format(', '.join(
            '--{} (--{})'.format(alias, '/--'.join(keys if isinstance(keys, tuple) else (keys,)))
            for alias, keys in sorted(model.flag_aliases.items())))
    return text


def request(argv):
    """The settings a command line asks for, checked against the model's and the loop's keys."""
    preset, model, defaults, preset_values = _preset(argv)
    flags = parse_flags(argv, defaults, model.flag_aliases)
    values = dict(defaults, **preset_values)
    values.update(flags)
    if 'ITERS' in flags and 'EPOCHS' not in flags:
        values['EPOCHS'] = 0.  # an explicit --ITERS outranks a preset's epochs
    values['mixed_precision'] = device.mixed_precision_mode(values['mixed_precision'])
    if values['holdout'] > 0 and not values.get('ada_target'):
        raise ConfigError('--holdout {}: held-out images only serve --ada_target (transfer_gan\'s '
                          'adaptive DiffAugment); pass it or drop --holdout'.format(
                              values['holdout']))
    if values.get('ada_target') and values['holdout'] == 0:
        raise ConfigError('--ada_target {} measures the critic on held-out images: pass '
                          '--holdout N (say a tenth of the data)'.format(values['ada_target']))
    return Request(model, preset, values, frozenset(preset_values) | frozenset(flags),
                   frozenset(flags))


def wants_debug(argv):
    """The command line's --debug, parsed like every setting (``--debug false`` is false); a
    command line that does not parse is not asking for it (its error is reported as usual)."""
    try:
        return request(argv).values['debug']
    except (ConfigError, device.DeviceError):
        return False


def model_values(req, **derived):
    """The model's settings of a request, with ``derived`` ones over them, checked."""
    values = {k: req.values[k] for k in req.model.defaults}
    values.update(derived)
    return req.model.config(**values)


def classes_from_data(req, n_classes, path, saved=None):
    """{'N_CLASSES': the data's} for a conditional model; unlabelled data, or a --N_CLASSES
    flag that differs, is an error. A resumed run (``saved``: its checkpoint's model config)
    made with more classes than the data has keeps its number."""
    if not req.values.get('CONDITIONAL'):
        return {}
    if n_classes is None:
        raise ConfigError('{}: these images have no labels, which a conditional model needs; '
                          'pass --CONDITIONAL false --ACGAN false'.format(path))
    kept = (saved or {}).get('N_CLASSES', n_classes)
    if kept > n_classes:
        print('resuming a run made with N_CLASSES {} on data of {} classes: kept'.format(
            kept, n_classes))
        n_classes = kept
    if 'N_CLASSES' in req.flags and req.values['N_CLASSES'] != n_classes:
        raise ConfigError('--N_CLASSES {} but {} has {} classes{}; drop --N_CLASSES (it comes '
                          'from the data)'.format(req.values['N_CLASSES'], path, n_classes,
                                                  ' (--classes {})'.format(req.values['classes'])
                                                  if req.values['classes'] else ''))
    return {'N_CLASSES': n_classes}


def resolve(req, dev, source, cluster, saved=None):
    """The run's ``Settings``: ``req`` with the device's data format (unless set), the number
    of classes of ``source`` (this rank's share of the data; ``saved``, the model config of the
    checkpoint a run resumes, may keep a larger one), EPOCHS as ITERS and, with
    --iterations_per_loop K, the loop-aligned settings rounded up to multiples of K."""
    run = {k: req.values[k] for k in TRAIN_DEFAULTS}
    if run['freeze_d'] < 0:
        raise ConfigError('--freeze_d must be 0 or a number of critic blocks, got {}'.format(
            run['freeze_d']))
    if run['freeze_d'] and len(req.model.phases(model_values(req))) > 1:
        raise ConfigError('--freeze_d: {} grows its critic phase by phase, so its first blocks '
                          'are new ones, not the loaded ones'.format(req.model.name))
    if run['freeze_d'] and not run['finetune_from']:
        raise ConfigError('--freeze_d {} keeps critic blocks as --finetune_from loads them; '
                          'pass --finetune_from CKPT'.format(run['freeze_d']))
    derived = classes_from_data(req, source.n_classes, source.path, saved)
    if req.values.get('diffaug') and 'diffaug_fill' not in req.explicit:
        derived['diffaug_fill'] = data.background(source)
    if 'data_format' not in req.explicit:
        derived['data_format'] = device.data_format(dev)
    cfg = model_values(req, **derived)
    if run['EPOCHS']:
        if not cfg['batch_size']:
            raise ConfigError('--EPOCHS needs one --batch_size; {} schedules its training in '
                              'images per phase (set those, or --ITERS)'.format(req.model.name))
        derived['ITERS'] = gan_lib.iterations_for_epochs(
            run['EPOCHS'], len(source) // cfg['batch_size'],
            functools.partial(req.model.critic_steps, cfg))
        print('{} epochs of {} images: {} generator steps'.format(
            run['EPOCHS'], len(source) * cluster.size, derived['ITERS']))
    loops = run['iterations_per_loop']
    if loops < 1:
        raise ConfigError('--iterations_per_loop must be at least 1, got {}'.format(loops))
    rounded = []
    for values, key in [(run, k) for k in LOOP_ALIGNED] + [(derived, 'ITERS')]:
        value = values[key] if key in values else cfg[key]
        aligned = -(-value // loops) * loops
        if aligned != value:
            rounded.append('{} {} -> {}'.format(key, value, aligned))
            values[key] = aligned
    if rounded:
        print('--iterations_per_loop {}: rounded up to multiples: {}'.format(
            loops, ', '.join(rounded)))
    cfg = model_values(req, **derived)
    factor = distributed.lr_factor(run['lr_scaling'], cluster.size)
    train_cfg = dict(cfg, **{k: cfg[k] * factor for k in req.model.learning_rates})
    return Settings(req.model, req.preset, types.MappingProxyType(run),
                    types.MappingProxyType(cfg), types.MappingProxyType(train_cfg))


def as_dict(settings):
    """Every setting in one dict (config.json)."""
    return dict(settings.run, preset=settings.preset, model=settings.model.name,
                **settings.model_cfg)
