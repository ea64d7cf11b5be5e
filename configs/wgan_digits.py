"""WGAN with weight clipping on the built-in MNIST digits at 32x32, in the quickstart's budget
(minutes on a 2-core CPU): the original's DCGAN networks at width 32 (ngf = ndf = 32: G
128-64-32 maps, D 32-64-128), its RMSProp, clipping at +-0.01 and 5 critic steps, with the
learning rate raised from 5e-5 to 2e-4 and the 100-step critic warm-up kept for the first 10
generator steps only (every 500th step still warms up), so that digits form within the budget."""
MODEL = 'wgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/wgan_digits',
    'IMAGE_SIZE': 32,
    'CHANNELS': 1,
    'ngf': 32,
    'ndf': 32,
    'lrD': 2e-4,
    'lrG': 2e-4,
    'warmup_g_iters': 10,
    'ITERS': 3000,
    'LOG_STEP': 100,
    'SAVE_SAMPLES_STEP': 250,
    'CHECKPOINT_STEP': 500,
    'MAX_MINUTES': 5.,
}
