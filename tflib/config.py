"""Settings: a preset's values overridden by ``--KEY VALUE`` flags, typed by their defaults.

Keys keep the seed scripts' names (``--batch_size --LR --ITERS --DIM_G ... --data_path``), so
their commands keep working; booleans take true/false (and 1/0, yes/no, on/off), a bare
boolean flag means true, and lists take comma-separated values (``--DEPTHS 64,64,32``).
"""
import difflib

TRUE = ('true', '1', 'yes', 'y', 'on')
FALSE = ('false', '0', 'no', 'n', 'off')


class ConfigError(ValueError):
    """A flag or setting the program cannot use; the message names it."""


def merged(model_name, defaults, overrides):
    """``defaults`` updated with ``overrides``; ConfigError naming any key it does not know."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ConfigError('unknown {} config key(s): {}'.format(model_name, ', '.join(unknown)))
    return dict(defaults, **overrides)


def parse_value(key, text, default):
    """``text`` as the type of ``default`` (str when the default is None)."""
    if isinstance(default, list):
        try:
            return [parse_value(key, item.strip(), default[0] if default else '')
                    for item in text.split(',')]
        except ConfigError:
            raise ConfigError('--{} expects comma-separated values like {}, got {!r}'.format(
                key, ','.join(str(v) for v in default), text))
    if isinstance(default, bool):
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ConfigError('--{} expects true or false, got {!r}'.format(key, text))
    for kind, name in ((int, 'an integer'), (float, 'a number')):
        if isinstance(default, kind):
            try:
                return kind(float(text)) if kind is int and float(text).is_integer() else \
                    kind(text)
            except ValueError:
                raise ConfigError('--{} expects {}, got {!r}'.format(key, name, text))
    return text


def parse_flags(argv, defaults, aliases=None):
    """{key: typed value} from ``--KEY VALUE`` / ``--KEY=VALUE`` / bare boolean ``--KEY``;
    ``aliases`` maps other names (a seed script's) to a key or a tuple of keys it sets."""
    overrides, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith('--') or len(arg) == 2:
            raise ConfigError('unexpected argument {!r}: settings are given as --KEY VALUE'
                              .format(arg))
        name, has_value, text = arg[2:].partition('=')
        keys = (aliases or {}).get(name, name)
        keys = keys if isinstance(keys, tuple) else (keys,)
        unknown = [key for key in keys if key not in defaults]
        if unknown:
            raise ConfigError('unknown flag --{}{} (see --help for the settings)'.format(
                name, did_you_mean(name, list(defaults) + list(aliases or {}))))
        default = defaults[keys[0]]
        i += 1
        if not has_value:
            next_is_value = i < len(argv) and not argv[i].startswith('--')
            if not next_is_value:
                switch = isinstance(default, bool) or str(default).lower() in FALSE + TRUE
                if not switch:  # a bare flag means true for on/off settings (and auto ones)
                    raise ConfigError('--{} needs a value'.format(name))
                text = 'true'
            else:
                text, i = argv[i], i + 1
        value = parse_value(name, text, default)
        overrides.update((key, value) for key in keys)
    return overrides


def did_you_mean(name, known):
    """``; did you mean --KEY?`` for the known setting closest to a mistyped ``name`` (case and
    underscores aside, as in --batchsize for --batch_size), or ''."""
    folded = {key.lower().replace('_', ''): key for key in known}
    close = difflib.get_close_matches(name.lower().replace('_', ''), list(folded), n=1,
                                      cutoff=0.75)
    return '; did you mean --{}?'.format(folded[close[0]]) if close else ''


def describe(defaults):
    """One line per setting, for --help."""
    return '\n'.join('  --{:<24} {!r}'.format(k, v) for k, v in sorted(defaults.items(),
                                                                        key=lambda kv: kv[0]))
