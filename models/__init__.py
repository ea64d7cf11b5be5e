"""Models by name. Each module has DEFAULTS, ARCHITECTURE (the settings a checkpoint fixes),
config(**overrides), critic_steps(cfg, step), build(cfg, pipeline, wrap_optimizer) ->
tflib.gan.GANGraph (``pipeline(spec)`` gives the input element of its tflib.steps.StepSpec),
its generator / discriminator functions and, optionally, FLAG_ALIASES (a seed script's flag
names for its settings) and phases(cfg) -> [tflib.gan.Phase] (a model that trains in stages,
each with its own graph: PGAN's resolutions) and LEARNING_RATES (its learning-rate settings,
if not 'LR')."""
import importlib

from tflib.config import ConfigError
from tflib.gan import Phase

NAMES = ('cgan', 'dcgan', 'pgan', 'transfer_gan', 'wgan')


def get(name):
    if name not in NAMES:
        raise ConfigError('unknown model {!r}; models: {}'.format(name, ', '.join(NAMES)))
    return importlib.import_module('models.' + name)


def name(model):
    """A model module's name in NAMES."""
    return model.__name__.split('.')[-1]


def learning_rates(model):
    """The settings data-parallel learning-rate scaling multiplies."""
    return getattr(model, 'LEARNING_RATES', ('LR',))


def phases(model, cfg):
    """The model's training phases in order; one from step 0 to ITERS for most."""
    if hasattr(model, 'phases'):
        return model.phases(cfg)
    return [Phase(0, cfg['ITERS'], {}, '')]


def phase_config(model, cfg, step):
    """The config of the graph that wrote a checkpoint at ``step``: the phase it was in
    (a phase's last checkpoint is at its end step)."""
    schedule = phases(model, cfg)
    phase = next((p for p in schedule if step <= p.end), schedule[-1])
    return dict(cfg, **phase.settings)
