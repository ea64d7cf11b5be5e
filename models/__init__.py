"""The model contract, in one place, and the models by name.

A model module must provide:

- ``DEFAULTS``: its settings with their defaults, among them ``IMAGE_SIZE``, ``CHANNELS``,
  ``Z_DIM``, ``ITERS``, ``batch_size``, ``data_format``, ``G_ema`` and ``G_ema_rampup`` (the
  generator's moving average, ``AVERAGING``) (and ``N_CLASSES`` and
  ``CONDITIONAL`` when it can be conditional), none of them a key of the loop's settings
  (zoo/settings.py TRAIN_DEFAULTS) or ``preset``;
- ``ARCHITECTURE``: the settings that shape its variables (a checkpoint fixes them);
- ``config(**overrides)`` -> config: ``DEFAULTS`` with ``overrides``, checked (ConfigError);
- ``critic_steps(cfg, step)``: critic steps before generator step ``step``;
- ``generator(cfg, n_samples, labels=None, noise=None, is_training=True, phase=None)`` -> NHWC
  images in [-1, 1] from N(0, 1) noise [n, Z_DIM] and, when conditional, int32 labels [n],
  its params named ``Generator...`` (``GENERATOR``);
- ``discriminator(cfg, images, labels=None, phase=None)`` -> (scores [n], class logits
  [n, N_CLASSES] or None);
- ``recipe(cfg, phase)`` -> tflib.gan.Recipe: the networks, the cost of a critic step and of a
  generator step, the steps' random inputs (tflib.steps.StepSpec, its batch the phase's),
  the optimizer and the learning rates; ``Model.build`` assembles the training graph from it
  (tflib.gan.assemble: the global step, the optimizers' wrapping, the train ops).

With ``G_ema`` > 0 the ``Model`` keeps a moving average of the generator's trained params
(keys ``Gs...``, ``AVERAGE``) and its generator, the one that samples, scores and exports, reads
the average; the trained generator stays in the checkpoint (``--G_ema 0`` reads it).

``phase`` is one of the model's training phases (tflib.gan.Phase; ``recipe`` always gets one,
the networks None for the last). It may provide ``phases(cfg)`` (default: one phase of
``ITERS`` steps at ``batch_size``),
``FLAG_ALIASES`` (a seed script's flag names: ``{alias: key or (keys...)}``),
``LEARNING_RATES`` (the settings data-parallel scaling multiplies; default ``('LR',)``) and
``CRITIC_SEES_LABELS`` (whether its critic needs the labels; default False). Consumers use the
``Model`` that ``get`` returns, never the module's optional members.
"""
import collections
import importlib

from tflib import params
from tflib.compat import tf
from tflib.config import ConfigError
from tflib.gan import Phase, assemble

NAMES = ('cgan', 'dcgan', 'pgan', 'transfer_gan', 'wgan')
REQUIRED = ('DEFAULTS', 'ARCHITECTURE', 'config', 'critic_steps', 'generator', 'discriminator',
            'recipe')
AVERAGING = ('G_ema', 'G_ema_rampup')
REQUIRED_SETTINGS = ('IMAGE_SIZE', 'CHANNELS', 'Z_DIM', 'ITERS', 'batch_size',
                     'data_format') + AVERAGING
GENERATOR = 'Generator'  # the name prefix of every generator param
AVERAGE = 'Gs'  # the key prefix of their moving averages (PGAN's tkarras's name)


class Signature(collections.namedtuple('Signature', ['z_dim', 'n_classes', 'image_size',
                                                     'channels'])):
    """What a generator takes and gives: noise [n, z_dim], labels 0..n_classes-1 (n_classes
    None: unconditional) and images [n, image_size, image_size, channels]. Written to
    meta.json and carried inside exported .pb and .onnx files, so consumers read it."""
    __slots__ = ()

    def __str__(self):
        return 'noise {}, {}, images {}x{}x{}'.format(
            self.z_dim, '{} classes'.format(self.n_classes) if self.conditional else
            'unconditional', self.image_size, self.image_size, self.channels)

    @property
    def conditional(self):
        return self.n_classes is not None

    def as_dict(self):
        return dict(self._asdict())

    @classmethod
    def from_dict(cls, values):
        try:
            return cls(**{k: values[k] for k in cls._fields})
        except (KeyError, TypeError) as error:
            raise ConfigError('not a generator signature ({!r}: {})'.format(values, error))


class Model(object):
    """A model module seen through the contract: every member present, defaults filled in."""

    def __init__(self, module):
        missing = [m for m in REQUIRED if not hasattr(module, m)]
        if missing:
            raise TypeError('{} breaks the model contract: no {}'.format(
                module.__name__, ', '.join(missing)))
        self.module = module
        self.name = module.__name__.split('.')[-1]
        self.defaults, self.architecture = module.DEFAULTS, module.ARCHITECTURE
        lacking = [k for k in REQUIRED_SETTINGS if k not in self.defaults]
        if lacking:
            raise TypeError('{} breaks the model contract: DEFAULTS lack {}'.format(
                module.__name__, ', '.join(lacking)))
        self.flag_aliases = getattr(module, 'FLAG_ALIASES', {})
        self.learning_rates = getattr(module, 'LEARNING_RATES', ('LR',))
        self.critic_sees_labels = getattr(module, 'CRITIC_SEES_LABELS', False)
        self.model_phases = getattr(module, 'phases', None)
        self.critic_steps, self.discriminator = module.critic_steps, module.discriminator

    def __repr__(self):
        return 'Model({})'.format(self.name)

    def config(self, **overrides):
        """The module's config of ``overrides``, its averaging settings checked."""
        cfg = self.module.config(**overrides)
        if not 0 <= cfg['G_ema'] < 1:
            raise ConfigError('--G_ema must be 0 (no average) or a beta in (0, 1), got {}'.format(
                cfg['G_ema']))
        if cfg['G_ema_rampup'] < 0:
            raise ConfigError('--G_ema_rampup must be 0 (off) or positive, got {}'.format(
                cfg['G_ema_rampup']))
        return cfg

    def generator(self, cfg, n_samples, labels=None, noise=None, is_training=True, phase=None):
        """The module's generator; with ``G_ema``, its moving average."""
        return _averaged(cfg, self.module.generator)(
            cfg, n_samples, labels=labels, noise=noise, is_training=is_training, phase=phase)

    def recipe(self, cfg, phase):
        """The module's recipe; with ``G_ema``, its generator the average, updated after each
        generator step."""
        recipe = self.module.recipe(cfg, phase)
        if not cfg['G_ema']:
            return recipe
        after = recipe.after_generator

        def after_generator():  # inside the generator step's control dependencies
            with tf.control_dependencies([after()] if after else []):
                steps_run = tf.train.get_global_step().read_value()  # this step's included
                beta = params.ramped_beta(cfg['G_ema'], cfg['G_ema_rampup'], steps_run)
                return params.update_averages(GENERATOR, AVERAGE, beta)
        return recipe._replace(generator=_averaged(cfg, recipe.generator),
                               after_generator=after_generator)

    @staticmethod
    def start_averages():
        """The op that starts the generator's averages at its params (None without them), for
        a checkpoint loaded without them."""
        return params.start_averages(GENERATOR, AVERAGE)

    def phases(self, cfg):
        """The training phases in order; one from step 0 to ITERS for most models."""
        if self.model_phases is not None:
            return self.model_phases(cfg)
        return [Phase(0, cfg['ITERS'], {}, '', cfg['batch_size'])]

    def build(self, cfg, pipeline, wrap_optimizer=None, phase=None, step_by_step=False,
              frozen_blocks=0):
        """The tflib.gan.GANGraph of ``phase`` (None: the last), its inputs from
        ``pipeline(spec)`` (tflib/steps.py), its optimizers wrapped by ``wrap_optimizer``, with
        the step-by-step ops when ``step_by_step``, the critic's first ``frozen_blocks`` blocks
        untrained."""
        return assemble(self.recipe(cfg, phase or self.phases(cfg)[-1]), pipeline,
                        wrap_optimizer, step_by_step, frozen_blocks)

    def phase_at(self, cfg, step):
        """The phase whose graph wrote a checkpoint at ``step`` (a phase's last checkpoint is
        at its end step)."""
        schedule = self.phases(cfg)
        return next((p for p in schedule if step <= p.end), schedule[-1])

    @staticmethod
    def signature(cfg, images=None):
        """The Signature of ``cfg``'s generator; its image size and channels from ``images``,
        the generator's output, when given (a phase's generator, PGAN's, may be smaller than
        IMAGE_SIZE)."""
        size, channels = cfg['IMAGE_SIZE'], cfg['CHANNELS']
        if images is not None:
            size, channels = int(images.shape[1]), int(images.shape[3])
        return Signature(cfg['Z_DIM'], cfg['N_CLASSES'] if cfg.get('CONDITIONAL') else None,
                         size, channels)


def _averaged(cfg, generator):
    """``generator`` reading the moving averages when ``cfg`` keeps them."""
    if not cfg['G_ema']:
        return generator

    def average(*args, **kwargs):
        with params.averages(GENERATOR, AVERAGE):
            return generator(*args, **kwargs)
    return average


def get(name):
    """The ``Model`` named ``name``."""
    if name not in NAMES:
        raise ConfigError('unknown model {!r}; models: {}'.format(name, ', '.join(NAMES)))
    return Model(importlib.import_module('models.' + name))
