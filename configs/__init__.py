"""Presets: one module per published setting, each with ``MODEL`` (a name in ``models``) and
``CONFIG`` (the settings that differ from the model's and the training loop's defaults)."""
import importlib
import os
import pkgutil

from tflib.config import ConfigError


def names():
    return sorted(m.name for m in pkgutil.iter_modules([os.path.dirname(__file__)]))


def load(name):
    """(model name, settings) of preset ``name``."""
    if name not in names():
        raise ConfigError('unknown preset {!r}; presets: {}'.format(name, ', '.join(names())))
    module = importlib.import_module('configs.' + name)
    return module.MODEL, dict(module.CONFIG)
