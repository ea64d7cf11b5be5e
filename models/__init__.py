"""Models by name. Each module has DEFAULTS, ARCHITECTURE (the settings a checkpoint fixes),
config(**overrides), build(cfg, images, labels, wrap_optimizer) -> tflib.gan.GANGraph, and its
generator / discriminator functions."""
import importlib

from tflib.config import ConfigError

NAMES = ('transfer_gan',)


def get(name):
    if name not in NAMES:
        raise ConfigError('unknown model {!r}; models: {}'.format(name, ', '.join(NAMES)))
    return importlib.import_module('models.' + name)
