"""What a model hands the training loop, the scorer and the exporter (after TF-GAN's GANModel),
and the train ops a model builds from its two step functions."""
import collections

from tflib import layout, params
from tflib.compat import tf

GANGraph = collections.namedtuple('GANGraph', [
    'generator',      # generator(n_samples, labels=None, noise=None, is_training=True) -> NHWC
    'discriminator',  # discriminator(images NHWC[, labels for CGAN]) -> (scores [N], class
                      # logits or None)
    'disc_train_op',  # one critic step; draws a fresh real batch
    'gen_train_op',   # one generator step; increments `step`
    'train_op',       # fused: `fused_critic_steps` critic steps, then the generator step
    'critic_steps',   # critic_steps(step) -> critic steps to run before generator step `step`
    'fused_critic_steps',  # the critic steps inside train_op
    'step',           # global step: generator steps done
    'learning_rate',  # scalar tensor, after decay
    'disc_metrics',   # {name: scalar} computed by a critic step, for logs and summaries
    'gen_metrics',    # {name: scalar} computed by a generator step
    'train_metrics',  # {name: scalar} of train_op: its last critic step and its generator step
])

Phase = collections.namedtuple('Phase', [
    'start',     # first generator step of the phase
    'end',       # the step it ends at (its last step is end - 1)
    'settings',  # config entries the phase's graph is built with, over the model's config
    'name',      # shown when the phase begins ('' for a model with a single phase)
])

_SALTS = 16  # distinct random draws one train step may make
DRAWS_COLLECTION = 'ganzoo_random_draws'
FEATURES_COLLECTION = 'ganzoo_critic_features'

# gate_gradients for every model's minimize(). GATE_GRAPH computes all of a step's gradients
# before any update: a ref variable's reads alias its buffer, so with GATE_NONE an update could
# race a backprop op still reading that weight (measured: runs of the same seed differed by
# 2 lr). Unlike the default GATE_OP, it does not make each op compute all its input gradients,
# so a generator step skips the critic's unused weight gradients (13% of its FLOPs).
GATE_GRADIENTS = tf.train.Optimizer.GATE_GRAPH


def critic_feature(x):
    """Mark a critic layer's activation (current layout) as a feature for the DCGAN paper's
    representation test (tflib/metrics/representation.py); returns ``x``."""
    tf.add_to_collection(FEATURES_COLLECTION, layout.to_nhwc(x))
    return x


def critic_features():
    """The NHWC activations critics of this graph marked, in the order they were built."""
    return tf.get_collection(FEATURES_COLLECTION)


def all_finite(variables):
    """A boolean scalar: no NaN or Inf in any of ``variables``."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.is_finite(v)) for v in variables]))


def carried_state():
    """The variables a new phase's graph takes from the last phase's checkpoint: the registry
    params (weights, normalisation statistics, moving averages), the step and the draw
    counter. Optimizer state is left out, so it starts afresh (tkarras's
    reset_opt_for_new_lod)."""
    return params.all_params() + [tf.train.get_global_step()] + \
        tf.get_collection(DRAWS_COLLECTION)


class Draws(object):
    """The random inputs of one train step (noise, penalty mixing, labels) as stateless functions
    of (seed, draw counter): the fused and the step-by-step loops, and a resumed run, draw the
    same numbers on either TF."""

    def __init__(self, seed, counter):
        self.seed, self.counter, self.salt = int(seed), counter, 0

    def _next_seed(self):
        if self.salt == _SALTS:
            raise ValueError('a train step may make at most {} random draws'.format(_SALTS))
        self.salt += 1
        return tf.stack([self.counter * _SALTS + self.salt, tf.constant(self.seed, tf.int32)])

    def normal(self, shape):
        return tf.random.stateless_normal(shape, seed=self._next_seed())

    def uniform(self, shape):
        return tf.random.stateless_uniform(shape, seed=self._next_seed())

    def integers(self, shape, maxval):
        return tf.random.stateless_uniform(shape, seed=self._next_seed(), minval=0,
                                           maxval=maxval, dtype=tf.int32)


def train_ops(critic_step, generator_step, n_critic, seed):
    """The GANGraph fields of the train ops, from the model's step functions
    ``critic_step(draws) -> (op, metrics)`` (each call builds a fresh copy that draws its own
    real batch) and ``generator_step(draws) -> (op, metrics)``: one op per step for the
    step-by-step loop, and ``train_op``, the ``n_critic`` critic steps and the generator step
    chained by control dependencies into one op, so that a generator iteration is one session
    call (one host round trip, as an NPU wants). Both read one draw counter, so they compute
    the same thing."""
    counter = tf.Variable(0, trainable=False, name='RandomDraws', dtype=tf.int32)
    tf.add_to_collection(DRAWS_COLLECTION, counter)

    def counted(step_fn):
        op, metrics = step_fn(Draws(seed, tf.identity(counter)))
        with tf.control_dependencies([op]):
            return counter.assign_add(1).op, metrics

    disc_train_op, disc_metrics = counted(critic_step)
    gen_train_op, gen_metrics = counted(generator_step)
    done = []
    for _ in range(n_critic):
        with tf.control_dependencies(done):
            op, last_disc_metrics = counted(critic_step)
        done = [op]
    with tf.control_dependencies(done):
        train_op, last_gen_metrics = counted(generator_step)
    return dict(disc_train_op=disc_train_op, disc_metrics=disc_metrics,
                gen_train_op=gen_train_op, gen_metrics=gen_metrics, train_op=train_op,
                fused_critic_steps=n_critic,
                train_metrics=dict(last_disc_metrics, **last_gen_metrics))


def critic_train_op(optimizer, cost):
    """One critic step: ``cost`` minimised over the critic's (Discriminator.*) params."""
    return optimizer.minimize(cost, gate_gradients=GATE_GRADIENTS, var_list=params.params_with_name(
        'Discriminator.', trainable_only=True))


def generator_train_op(optimizer, step, generate, disc, cost):
    """One generator step: ``cost(*disc(generate()))`` -> (cost, metrics) minimised over the
    Generator params, after the BatchNorm moving-statistics updates ``generate()`` added (they
    keep the exported, inference-mode generator current). Increments ``step``."""
    n_updates = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    scores, logits = disc(generate())
    bn_updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)[n_updates:]
    loss, metrics = cost(scores, logits)
    metrics['loss_g'] = loss
    with tf.control_dependencies(bn_updates):
        return optimizer.minimize(loss, global_step=step, gate_gradients=GATE_GRADIENTS,
                                  var_list=params.params_with_name('Generator', True)), metrics


def iterations_for_epochs(epochs, batches_per_epoch, critic_steps):
    """Generator steps whose critic steps take ``epochs`` passes over the data (the WGAN code's
    epoch counts critic batches)."""
    needed, step, done = epochs * batches_per_epoch, 0, 0
    while done < needed:
        done += critic_steps(step)
        step += 1
    return max(step, 1)
