"""Name-keyed parameter registry, one per graph (improved_wgan_training's ``lib.param``).

Calling a network twice reuses its variables by registry name. Checkpoint keys are the
variables' op names; they are fixed by ``param`` whatever name scope the caller is in, so the
authors' released checkpoints load without a name map (reference: transfer_gan.md §1.3).
Inside ``averages(prefix, shadow)`` a network reads the exponential moving averages of its
trained params instead (the zoo's averaged generator, PGAN's ``Gs``), with no change to its code.
"""
import contextlib
import weakref
import zlib

import numpy as np

from tflib.compat import tf

_registries = weakref.WeakKeyDictionary()
_averaging = []  # (prefix, shadow prefix) pairs of the open ``averages`` blocks
_resource = []   # non-empty inside ``resource_variables``


def _registry():
    return _registries.setdefault(tf.get_default_graph(), {})


def param(name, shape, initializer, scope=None, trainable=True):
    """Return the variable ``name`` of this graph, creating it on first use.

    ``initializer(shape, seed)`` builds the initial value in-graph (a random op, so the graph
    stays small). Its op-level ``seed`` comes from the key, so with the graph-level seed it
    fixes the draw whatever else the graph holds: TF 1.15 would otherwise derive it from the
    op's position in the graph, and a graph with one more op before it (the NPU's loss-scale
    state, say) would start from other weights. With ``scope`` the variable's key is
    ``scope/name``, as tflib's Linear and Conv2D produce; without it the key is ``name``.
    """
    var = _get_or_create(name, shape, initializer, scope, trainable)
    for prefix, shadow in _averaging:
        if name.startswith(prefix) and var.trainable:
            return _shadow(name, var, prefix, shadow)
    return var


def _get_or_create(name, shape, initializer, scope, trainable):
    registry = _registry()
    if name not in registry:
        shape = [int(d) for d in shape]
        expected = scope + '/' + name if scope else name
        seed = zlib.crc32(expected.encode('utf-8')) % 2 ** 31
        with tf.name_scope(None), tf.name_scope(scope + '/' if scope else None):
            var = tf.Variable(lambda: initializer(shape, seed), name=name, trainable=trainable,
                              dtype=tf.float32, use_resource=bool(_resource))
        if var.op.name != expected:
            raise ValueError('variable {!r} was created as {!r}: a graph op of that name '
                             'already exists'.format(expected, var.op.name))
        registry[name] = var
    var = registry[name]
    if var.shape.as_list() != [int(d) for d in shape]:
        raise ValueError('parameter {!r} exists with shape {}, asked for {}'.format(
            name, var.shape.as_list(), list(shape)))
    return var


def _shadow(name, source, prefix, shadow):
    """The moving average of registry param ``name`` (variable ``source``), created on first
    use as a non-trainable copy named and keyed with ``shadow`` for ``prefix``
    (``Generator.X/Generator.X.W`` -> ``Gs.X/Gs.X.W``). Its initial value is the source's
    initial-value tensor itself, so one initialiser run gives both the same draw: a new layer's
    average starts at its weights."""
    registry = _registry()
    shadow_name = _shadow_name(name, prefix, shadow)
    if shadow_name not in registry:
        key = '/'.join(shadow + part[len(prefix):] if part.startswith(prefix) else part
                       for part in source.op.name.split('/'))
        scope, _, base = key.rpartition('/')
        with tf.name_scope(None), tf.name_scope(scope + '/' if scope else None):
            var = tf.Variable(source.initial_value, name=base, trainable=False,
                              use_resource=bool(_resource))
        if var.op.name != key:
            raise ValueError('variable {!r} was created as {!r}: a graph op of that name '
                             'already exists'.format(key, var.op.name))
        registry[shadow_name] = var
    return registry[shadow_name]


def _shadow_name(name, prefix, shadow):
    """The registry name of param ``name``'s average (``Generator.X.W`` -> ``Gs.X.W``)."""
    return shadow + name[len(prefix):]


@contextlib.contextmanager
def resource_variables():
    """Params created inside are resource variables, with the same keys: what TF 2.x loads
    from a SavedModel without a warning per reference variable. Training graphs keep TF1's
    reference variables, as the authors' and the Ascend port's do."""
    _resource.append(True)
    try:
        yield
    finally:
        _resource.pop()


@contextlib.contextmanager
def averages(prefix, shadow):
    """Inside the block, trainable params whose names start with ``prefix`` read as their
    moving averages (see ``update_averages``). Normalisation statistics are not averaged: an
    averaged network in inference mode reads the trained one's moving statistics."""
    _averaging.append((prefix, shadow))
    try:
        yield
    finally:
        _averaging.pop()


def update_averages(prefix, shadow, beta):
    """One step of the moving average of the trainable ``prefix`` params:
    avg <- beta avg + (1 - beta) param (tkarras's ``setup_as_moving_average_of``, Gs);
    ``beta`` a number or a scalar tensor (``ramped_beta``)."""
    pairs = [(var, _shadow(name, var, prefix, shadow))
             for name, var in sorted(_registry().items())
             if name.startswith(prefix) and var.trainable]
    return tf.group(*[tf.assign_sub(avg, (1. - beta) * (avg - var)) for var, avg in pairs])


def ramped_beta(beta, rampup, step):
    """``beta``, capped while a run is young so that the average's half-life is at most
    ``rampup`` times ``step``, the steps run (StyleGAN2-ADA's ``ema_rampup``): a short run's
    average then forgets its first weights. 0 leaves ``beta`` as it is; at step 0 the cap is
    0 (the average takes the weights)."""
    if not rampup:
        return beta
    half_life = tf.maximum(rampup * tf.cast(step, tf.float32), 1e-8)
    return tf.minimum(float(beta), tf.exp(float(np.log(.5)) / half_life))


def start_averages(prefix, shadow):
    """An op that sets the existing averages of the ``prefix`` params to the params (None if
    there are none): what a checkpoint loaded without averages (the authors') starts them at."""
    registry = _registry()
    pairs = [(var, registry[_shadow_name(name, prefix, shadow)])
             for name, var in sorted(registry.items())
             if name.startswith(prefix) and _shadow_name(name, prefix, shadow) in registry]
    return tf.group(*[tf.assign(avg, var) for var, avg in pairs]) if pairs else None


def params_with_name(name, trainable_only=False):
    """Registry params whose name contains ``name`` (a substring, like the original), by name."""
    return [v for n, v in sorted(_registry().items())
            if name in n and (v.trainable or not trainable_only)]


def created(prefix):
    """(name, variable) of the trainable registry params whose names start with ``prefix``, in
    the order the network created them (from its input on, for a critic)."""
    return [(n, v) for n, v in _registry().items() if n.startswith(prefix) and v.trainable]


def all_params():
    return params_with_name('')


def uniform(stdev):
    """Uniform initializer with the given standard deviation (the original tflib's choice)."""
    half_width = float(stdev) * np.sqrt(3.)
    return lambda shape, seed: tf.random_uniform(shape, -half_width, half_width, seed=seed)


def normal(stdev, mean=0.):
    """Gaussian initializer (DCGAN's N(0, 0.02) convolutions, N(1, 0.02) BN scales)."""
    return lambda shape, seed: tf.random_normal(shape, mean, stdev, seed=seed)


def constant(value):
    return lambda shape, seed: tf.fill(shape, float(value))
