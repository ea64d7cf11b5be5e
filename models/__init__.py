"""Models by name. Each module has DEFAULTS, ARCHITECTURE (the settings a checkpoint fixes),
config(**overrides), critic_steps(cfg, step), build(cfg, next_batch, wrap_optimizer, seed) ->
tflib.gan.GANGraph, its generator / discriminator functions and, optionally, FLAG_ALIASES
(a seed script's flag names for its settings)."""
import importlib

from tflib.config import ConfigError

NAMES = ('cgan', 'dcgan', 'transfer_gan', 'wgan')


def get(name):
    if name not in NAMES:
        raise ConfigError('unknown model {!r}; models: {}'.format(name, ', '.join(NAMES)))
    return importlib.import_module('models.' + name)
