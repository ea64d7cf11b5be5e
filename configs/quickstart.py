"""The flagship at reduced width, conditional (AC-GAN), on the built-in MNIST digits: digit
samples within minutes on a 2-core CPU."""
MODEL = 'transfer_gan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/quickstart',
    'IMAGE_SIZE': 32,
    'CHANNELS': 1,
    'DIM_G': 32,
    'DIM_D': 32,
    'ITERS': 300,
    'LOG_STEP': 10,
    'SAVE_SAMPLES_STEP': 50,
    'CHECKPOINT_STEP': 100,
    'MAX_MINUTES': 5.,
}
