"""PGAN at toy scale on the built-in MNIST digits: 4 -> 16 with depths 64, 64, 32, latent 64,
minibatch 32, 16,000 images per phase (2,500 steps, about 2 minutes on a 2-core CPU). The
generator average uses beta 0.99, not the paper's 0.999: phases of 500 steps would leave a
0.999 average mostly made of the previous resolution's weights."""
MODEL = 'pgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/pgan_tiny',
    'IMAGE_SIZE': 16,
    'CHANNELS': 1,
    'Z_DIM': 64,
    'DEPTHS': [64, 64, 32],
    'BATCH_SIZES': [32, 32, 32],
    'STABLE_IMAGES': 16000,
    'FADE_IMAGES': 16000,
    'G_ema': .99,
    'LOG_STEP': 250,
    'SAVE_SAMPLES_STEP': 500,
    'CHECKPOINT_STEP': 500,
}
