"""GAN losses shared by the models."""
from tflib.compat import tf
from tflib.gan import AGGREGATION


def wasserstein_critic(critic_real, critic_fake):
    """WGAN (Arjovsky et al. 2017): the critic minimises E[D(fake)] - E[D(real)]; its negative
    estimates the Wasserstein-1 distance. The generator minimises -E[D(fake)]."""
    return tf.reduce_mean(critic_fake) - tf.reduce_mean(critic_real)


def wasserstein_generator(critic_fake):
    """WGAN's generator loss: -E[D(G(z))]."""
    return -tf.reduce_mean(critic_fake)


def drift(critic_real):
    """PGAN's drift term (Karras et al. 2018, sec. A.1): E[D(real)^2], which keeps the
    critic's scores near 0. Unscaled (times epsilon_drift by the caller)."""
    return tf.reduce_mean(tf.square(critic_real))


def bce(logits, target):
    """Mean binary cross-entropy of ``logits`` against the constant ``target`` (0 or 1)."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), float(target)), logits=logits))


def bce_critic(real_logits, fake_logits):
    """The GAN discriminator's BCE(D(x), 1) + BCE(D(G(z)), 0), summed as DCGAN's seed does."""
    return bce(real_logits, 1) + bce(fake_logits, 0)


def bce_generator(fake_logits):
    """The non-saturating BCE(D(G(z)), 1) (Goodfellow et al. 2014, sec. 3)."""
    return bce(fake_logits, 1)


# Inside the penalty's square root, as compare_gan's wgangp_penalty has it. Under Ascend's mixed
# precision the input gradient comes from an fp16 Conv2DBackpropInput and the Square, the sum
# and the root follow it in fp16 (docs/ascend.md), so small per-pixel gradients square to 0; the
# sum can then be 0, where the root's derivative is infinite, the float status trips and the
# critic update is skipped. 1e-4 is a normal fp16 number (the 1e-8 of fp32 code is below fp16's
# smallest subnormal and would round to 0); at a unit slope it moves the norm by 5e-5.
GP_EPSILON = 1e-4


def gradient_penalty(critic, real, fake, alpha):
    """WGAN-GP (Gulrajani et al. 2017, eq. 3): E[(||grad D(x_hat)||_2 - 1)^2] at
    x_hat = real + alpha (fake - real), alpha ~ U[0, 1] drawn per sample ([N, 1, 1, 1]), the
    norm as sqrt(GP_EPSILON + sum of squares). Unscaled (times lambda by the caller).
    ``critic`` maps a batch like ``real`` to one score per sample."""
    interpolates = real + alpha * (fake - real)
    gradients = tf.gradients(critic(interpolates), [interpolates],
                             aggregation_method=AGGREGATION)[0]
    slopes = tf.sqrt(GP_EPSILON + tf.reduce_sum(tf.square(gradients),
                                                axis=list(range(1, real.shape.ndims))))
    return tf.reduce_mean(tf.square(slopes - 1.))


def classification(logits, labels):
    """AC-GAN's auxiliary term (Odena et al. 2017): mean softmax cross-entropy, and accuracy."""
    cost = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)
    return cost, tf.reduce_mean(tf.cast(hits, tf.float32))
