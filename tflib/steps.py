"""What one generator iteration takes from the input pipeline, and how the host draws it.

A model declares the random inputs of its critic and generator steps (noise, labels, penalty
mixing factors, dropout) as ``Draw`` specs in a ``StepSpec``. The input pipeline makes them on
the host with numpy, next to the real batches, and delivers one element per block of
``fused_critic_steps`` critic steps: every input of a fused train step comes from the one
IteratorGetNext at its start, never from device state in the middle of the step (Ascend's
adapter would split such a step into several device graphs, and its stateless random ops have
no device kernel there).

Draws are a function of (seed, rank, generator step, block): the fused and the step-by-step
loops, a resumed run and an uninterrupted one get the same numbers, with no counter to save.
"""
import collections
import itertools

import numpy as np

Draw = collections.namedtuple('Draw', ['kind', 'shape', 'maxval'])

StepSpec = collections.namedtuple('StepSpec', [
    'critic',              # {name: Draw}: one critic step's draws (besides images and labels)
    'generator',           # {name: Draw}: the generator step's draws
    'fused_critic_steps',  # critic steps per element: every critic_steps(step) is a multiple
    'critic_steps',        # critic_steps(step) -> critic steps before generator step `step`
    'holdout',             # held-out real images each critic step takes besides its batch
])
StepSpec.__new__.__defaults__ = (0,)  # most models take none


def normal(*shape):
    """N(0, 1) float32 of ``shape``."""
    return Draw('normal', shape, None)


def uniform(*shape):
    """U[0, 1) float32 of ``shape``."""
    return Draw('uniform', shape, None)


def integers(maxval, *shape):
    """Uniform int32 in [0, maxval) of ``shape``."""
    return Draw('integers', shape, maxval)


def blocks(spec, step):
    """Elements generator step ``step`` takes: its critic steps in blocks of the spec's."""
    n_critic = spec.critic_steps(step)
    if n_critic % spec.fused_critic_steps:
        raise ValueError('{} critic steps at step {} are not a multiple of {}'.format(
            n_critic, step, spec.fused_critic_steps))
    return n_critic // spec.fused_critic_steps


def elements(spec, start):
    """(generator step, block) of every element from generator step ``start`` on."""
    for step in itertools.count(start):
        for block in range(blocks(spec, step)):
            yield step, block


def critic_batches(spec, first, start):
    """Real batches the critic steps of generator steps ``first`` .. ``start`` - 1 take."""
    return sum(blocks(spec, step) for step in range(first, start)) * spec.fused_critic_steps


def element_rng(seed, rank, step, block):
    """The generator of one element's draws."""
    return np.random.default_rng([seed % 2 ** 32, rank, step, block])


def draw(draws, rng, leading=()):
    """{name: array} of ``draws`` ({name: Draw}), each with ``leading`` dimensions first."""
    values = {}
    for name, spec in draws.items():
        shape = tuple(leading) + tuple(spec.shape)
        if spec.kind == 'normal':
            values[name] = rng.standard_normal(shape, dtype=np.float32)
        elif spec.kind == 'uniform':
            values[name] = rng.random(shape, dtype=np.float32)
        else:
            values[name] = rng.integers(0, spec.maxval, shape, dtype=np.int32)
    return values


def draw_element(spec, rng):
    """The draws of one element, keyed as the pipeline delivers them: ``critic/NAME``
    [fused_critic_steps, ...] and ``generator/NAME``."""
    element = {'critic/' + k: v for k, v in draw(spec.critic, rng,
                                                 (spec.fused_critic_steps,)).items()}
    element.update(('generator/' + k, v) for k, v in draw(spec.generator, rng).items())
    return element


def element_signature(spec, image_shape):
    """({name: numpy dtype}, {name: shape}) of an element, real batches of ``image_shape``
    ([batch, H, W, C]) and the spec's held-out images included."""
    fused = spec.fused_critic_steps
    dtypes = {'images': np.float32, 'labels': np.int32}
    shapes = {'images': (fused,) + tuple(image_shape), 'labels': (fused, image_shape[0])}
    if spec.holdout:
        dtypes['holdout'] = np.float32
        shapes['holdout'] = (fused, spec.holdout) + tuple(image_shape[1:])
    for prefix, draws, leading in (('critic/', spec.critic, (fused,)),
                                   ('generator/', spec.generator, ())):
        for name, d in draws.items():
            dtypes[prefix + name] = np.int32 if d.kind == 'integers' else np.float32
            shapes[prefix + name] = leading + tuple(d.shape)
    return dtypes, shapes
