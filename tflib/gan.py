"""What a model gives (a ``Recipe``: networks, costs, step inputs, optimizer settings) and
what the training loop, the scorer and the exporter get from it (a ``GANGraph``, after TF-GAN's
GANModel -> GANTrainOps): ``assemble`` owns the global step, the optimizers and their wrapping,
and the train ops."""
import collections

import numpy as np

from tflib import layout, params
from tflib.compat import tf
from tflib.config import ConfigError

Recipe = collections.namedtuple('Recipe', [
    'generator',        # generator(n_samples, labels=None, noise=None, is_training=True) -> NHWC
    'discriminator',    # discriminator(images NHWC, labels=None) -> (scores [N], class logits
                        # or None)
    'spec',             # tflib.steps.StepSpec: the steps' draws and critic steps
    'learning_rates',   # learning_rates(step) -> (the critic's, the generator's) scalar tensors
    'optimizer',        # optimizer(learning_rate) -> a tf.train.Optimizer, one per network
    'critic_cost',      # critic_cost(inputs) -> (cost, metrics) of one critic step on `inputs`
                        # (images, labels, the critic draws of `spec` and its held-out images);
                        # ops it adds to UPDATE_OPS run with the step (adaptive augmentation)
    'generator_cost',   # generator_cost(inputs) -> (cost, metrics) of the generator step (its
                        # draws); its generator updates BatchNorm's moving statistics
    'after_critic',     # None, or after_critic() -> an op after each critic update (clipping)
    'after_generator',  # None, or after_generator() -> an op after each generator step
])

GANGraph = collections.namedtuple('GANGraph', [
    'generator',      # Recipe.generator
    'discriminator',  # Recipe.discriminator
    'inputs',         # {name: tensor}: one element of the input pipeline (one IteratorGetNext)
    'train_op',       # fused: the element's critic steps, then the generator step
    'critic_block_op',  # fused: the element's critic steps alone (iterations with more)
    'critic_steps',   # critic_steps(step) -> critic steps to run before generator step `step`
    'fused_critic_steps',  # the critic steps of one element (train_op, critic_block_op)
    'step',           # global step: generator iterations run (applied or skipped for overflow)
    'learning_rate',  # the generator's, a scalar tensor, after decay
    'train_metrics',  # {name: scalar} of train_op: its last critic step and its generator step
    # Step by step (assemble(..., step_by_step=True)), else None: the element is fed back.
    'critic_index',   # which critic step of `inputs` disc_train_op takes (default 0)
    'disc_train_op',  # one critic step on `inputs` at `critic_index`
    'gen_train_op',   # one generator step on `inputs`; increments `step`
    'disc_metrics',   # {name: scalar} computed by a critic step
    'gen_metrics',    # {name: scalar} computed by a generator step
])

Phase = collections.namedtuple('Phase', [
    'start',     # first generator step of the phase
    'end',       # the step it ends at (its last step is end - 1)
    'settings',  # what the model builds this phase's graph with (its own keys; {} for one)
    'name',      # shown when the phase begins ('' for a model with a single phase)
    'batch_size',  # its real images per critic step
])

FEATURES_COLLECTION = 'ganzoo_critic_features'

# gate_gradients for every model's minimize(). GATE_GRAPH computes all of a step's gradients
# before any update: a ref variable's reads alias its buffer, so with GATE_NONE an update could
# race a backprop op still reading that weight (measured: runs of the same seed differed by
# 2 lr). Unlike the default GATE_OP, it does not make each op compute all its input gradients,
# so a generator step skips the critic's unused weight gradients (13% of its FLOPs).
GATE_GRADIENTS = tf.train.Optimizer.GATE_GRAPH
# How gradients sum a tensor's contributions (every minimize() and the gradient penalty's inner
# gradient). TF's default adds them in one AddN, and grappler may rewrite an AddN of 3 or more
# into an accumulation in arrival order (TemporaryVariable and AssignAdd; seen with its
# arithmetic optimizer on, gone with it off): PGAN's 512-wide critic (applied to reals, fakes
# and the penalty's interpolates apart, as its minibatch-stddev layer needs) gave other
# weights in 6 of 7 runs of one seed (TF 2.21, CPU). Sums of pairs keep one order.
AGGREGATION = tf.AggregationMethod.EXPERIMENTAL_TREE


def critic_feature(x):
    """Mark a critic layer's activation (current layout) as a feature for the DCGAN paper's
    representation test (tflib/metrics/representation.py); returns ``x``."""
    tf.add_to_collection(FEATURES_COLLECTION, layout.to_nhwc(x))
    return x


def critic_features():
    """The NHWC activations critics of this graph marked, in the order they were built."""
    return tf.get_collection(FEATURES_COLLECTION)


def all_finite(variables, bound=np.inf):
    """A boolean scalar: every value of ``variables`` below ``bound`` in magnitude (so neither
    NaN nor Inf; tflib.device.weight_bound gives an NPU's). Written as |x| < bound, which is
    false for NaN, because TF's IsFinite has no AI Core kernel on Ascend (AI CPU only)."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.abs(v) < bound) for v in variables]))


def carried_state():
    """The variables a new phase's graph takes from the last phase's checkpoint: the registry
    params (weights, normalisation statistics, moving averages) and the step. Optimizer state
    is left out, so it starts afresh (tkarras's reset_opt_for_new_lod)."""
    return params.all_params() + [tf.train.get_global_step()]


def assemble(recipe, pipeline, wrap_optimizer=None, step_by_step=False, frozen_blocks=0):
    """The GANGraph of ``recipe``, its inputs from ``pipeline(recipe.spec)`` (an element of
    the spec's draws, tflib/steps.py), both optimizers wrapped by ``wrap_optimizer`` (e.g. the
    device's loss scaling), with the step-by-step ops when ``step_by_step``, the critic's
    first ``frozen_blocks`` blocks left untrained (``critic_blocks``).

    ``train_op`` chains the element's critic steps and the generator step by control
    dependencies: a generator iteration is one session call whose every input comes from the
    one IteratorGetNext at its start, so no host op sits between device ops and the step is
    one device graph (as Ascend's adapter wants). ``critic_block_op`` runs the critic steps
    alone, for iterations with more critic steps than an element holds. The step-by-step ops
    compute the same thing from the same element, fed back into ``inputs``."""
    wrap_optimizer = wrap_optimizer or (lambda optimizer: optimizer)
    step = tf.train.get_or_create_global_step()
    critic_rate, generator_rate = recipe.learning_rates(step)
    critic_optimizer = wrap_optimizer(recipe.optimizer(critic_rate))
    generator_optimizer = wrap_optimizer(recipe.optimizer(generator_rate))

    def critic_step(inputs):
        n_updates = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
        cost, metrics = recipe.critic_cost(inputs)
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)[n_updates:]):
            op = _critic_update(critic_optimizer, cost, frozen_blocks)
        if recipe.after_critic:
            with tf.control_dependencies([op]):
                op = recipe.after_critic()
        return op, metrics

    def generator_step(inputs):
        op, metrics = _generator_update(generator_optimizer, step, recipe.generator_cost,
                                        inputs)
        if recipe.after_generator:
            with tf.control_dependencies([op]):
                op = recipe.after_generator()
        return op, metrics

    spec = recipe.spec
    inputs = pipeline(spec)
    fused = spec.fused_critic_steps

    def critic_inputs(index):
        names = ['images', 'labels'] + ['critic/' + name for name in spec.critic] + (
            ['holdout'] if spec.holdout else [])
        return {name.split('/')[-1]: inputs[name][index] for name in names}

    generator_inputs = {name: inputs['generator/' + name] for name in spec.generator}
    by_step = dict.fromkeys(['critic_index', 'disc_train_op', 'disc_metrics', 'gen_train_op',
                             'gen_metrics'])
    if step_by_step:
        by_step['critic_index'] = tf.placeholder_with_default(0, [], name='critic_index')
        by_step['disc_train_op'], by_step['disc_metrics'] = critic_step(
            critic_inputs(by_step['critic_index']))
        by_step['gen_train_op'], by_step['gen_metrics'] = generator_step(generator_inputs)
    done = []
    for index in range(fused):
        with tf.control_dependencies(done):
            op, last_critic_metrics = critic_step(critic_inputs(index))
        done = [op]
    with tf.control_dependencies(done):
        train_op, last_generator_metrics = generator_step(generator_inputs)
    return GANGraph(generator=recipe.generator, discriminator=recipe.discriminator,
                    inputs=inputs, train_op=train_op, critic_block_op=done[0],
                    critic_steps=spec.critic_steps, fused_critic_steps=fused, step=step,
                    learning_rate=generator_rate,
                    train_metrics=dict(last_critic_metrics, **last_generator_metrics),
                    **by_step)


def critic_blocks():
    """The critic's trainable params by block (``Discriminator.<block>``: the first two parts
    of a param's name; a normalisation named after its layer, ``Down1N``, is in that layer's
    block), the blocks in the order the network created them: from its input on."""
    blocks = collections.OrderedDict()
    for name, var in params.created('Discriminator.'):
        block = '.'.join(name.split('.')[:2])
        if block.endswith('N') and block[:-1] in blocks:
            block = block[:-1]
        blocks.setdefault(block, []).append(var)
    return blocks


def _critic_update(optimizer, cost, frozen_blocks):
    """One critic update: ``cost`` minimised over the critic's (Discriminator.*) params but
    those of its first ``frozen_blocks`` blocks (FreezeD, Mo et al. 2020: fine-tuning keeps
    the source critic's low-level filters and adapts the layers above)."""
    trained = params.params_with_name('Discriminator.', True)
    if frozen_blocks:
        blocks = critic_blocks()
        if frozen_blocks >= len(blocks):
            raise ConfigError('--freeze_d {}: the critic has {} blocks ({}); freeze at most {}'
                              .format(frozen_blocks, len(blocks), ', '.join(blocks),
                                      len(blocks) - 1))
        frozen = {v for block in list(blocks.values())[:frozen_blocks] for v in block}
        trained = [v for v in trained if v not in frozen]
    return optimizer.minimize(cost, gate_gradients=GATE_GRADIENTS, aggregation_method=AGGREGATION,
                              var_list=trained)


def _generator_update(optimizer, step, generator_cost, inputs):
    """One generator step: ``generator_cost(inputs)`` -> (cost, metrics) minimised over the
    Generator params, after the BatchNorm moving-statistics updates it added (they keep the
    exported, inference-mode generator current), then ``step`` + 1.

    ``step`` counts generator iterations run, whether or not the update was applied: a
    loss-scaling wrapper (Ascend's NPULossScaleOptimizer, TF's on a GPU) skips an overflowing
    update, and would skip a ``global_step`` passed to it too, leaving the step, and with it the
    learning rate, PGAN's fade-in and where a resume starts, behind the iterations, the data
    and the checkpoints. So the step is counted here, after the update, as Keras's
    LossScaleOptimizer counts its iterations."""
    n_updates = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    loss, metrics = generator_cost(inputs)
    bn_updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)[n_updates:]
    metrics = dict(metrics, loss_g=loss)
    with tf.control_dependencies(bn_updates):
        update = optimizer.minimize(loss, gate_gradients=GATE_GRADIENTS,
                                    aggregation_method=AGGREGATION,
                                    var_list=params.params_with_name('Generator', True))
    with tf.control_dependencies([update]):
        return tf.assign_add(step, 1).op, metrics


def iterations_for_epochs(epochs, batches_per_epoch, critic_steps):
    """Generator steps whose critic steps take ``epochs`` passes over the data (the WGAN code's
    epoch counts critic batches)."""
    needed, step, done = epochs * batches_per_epoch, 0, 0
    while done < needed:
        done += critic_steps(step)
        step += 1
    return max(step, 1)
