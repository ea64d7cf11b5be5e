"""What a model hands the training loop, the scorer and the exporter (after TF-GAN's GANModel)."""
import collections

GANGraph = collections.namedtuple('GANGraph', [
    'generator',      # generator(n_samples, labels=None, noise=None, is_training=True) -> NHWC
    'discriminator',  # discriminator(images NHWC) -> (critic scores [N], class logits or None)
    'disc_cost',      # scalar the critic step minimises
    'gen_cost',       # scalar the generator step minimises
    'disc_train_op',  # one critic step; draws a fresh real batch
    'gen_train_op',   # one generator step; increments `step`
    'critic_steps',   # critic_steps(step) -> critic steps to run before generator step `step`
    'step',           # global step: generator steps done
    'learning_rate',  # scalar tensor, after decay
    'disc_metrics',   # {name: scalar} computed by a critic step, for logs and summaries
    'gen_metrics',    # {name: scalar} computed by a generator step
])
