"""PGAN on the built-in MNIST digits at 32x32, in the quickstart's budget (minutes on a 2-core
CPU): 4 -> 32 with depths 64, 64, 32, 32, latent 64, minibatch 32, 12,800 images per phase (400
steps; 2,800 in all), the generator average at beta 0.99 (pgan_tiny says why not 0.999)."""
MODEL = 'pgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/pgan_digits',
    'IMAGE_SIZE': 32,
    'CHANNELS': 1,
    'Z_DIM': 64,
    'DEPTHS': [64, 64, 32, 32],
    'BATCH_SIZES': [32, 32, 32, 32],
    'STABLE_IMAGES': 12800,
    'FADE_IMAGES': 12800,
    'G_ema': .99,
    'LOG_STEP': 200,
    'SAVE_SAMPLES_STEP': 400,
    'CHECKPOINT_STEP': 400,
    'MAX_MINUTES': 5.,
}
