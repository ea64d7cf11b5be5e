"""DCGAN on the built-in MNIST digits at 32x32, in the quickstart's budget (minutes on a 2-core
CPU): seed 003's networks at feature_size 32 (G 256-128-64 maps, D 64-128-256), its Adam 2e-4 /
beta1 0.5 and BCE, batch 64."""
MODEL = 'dcgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/dcgan_digits',
    'IMAGE_SIZE': 32,
    'CHANNELS': 1,
    'feature_size': 32,
    'batch_size': 64,
    'ITERS': 3000,
    'LOG_STEP': 100,
    'SAVE_SAMPLES_STEP': 250,
    'CHECKPOINT_STEP': 500,
    'MAX_MINUTES': 5.,
}
