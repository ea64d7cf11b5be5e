"""PGAN at toy scale on the built-in MNIST digits: 4 -> 16 with depths 32, 32, 16, minibatch
16, 3,200 images per phase (1,000 steps in all). For tests and a first look at growing on a
CPU."""
MODEL = 'pgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/pgan_tiny',
    'IMAGE_SIZE': 16,
    'CHANNELS': 1,
    'Z_DIM': 32,
    'DEPTHS': [32, 32, 16],
    'BATCH_SIZES': [16, 16, 16],
    'STABLE_IMAGES': 3200,
    'FADE_IMAGES': 3200,
    'LOG_STEP': 50,
    'SAVE_SAMPLES_STEP': 200,
    'CHECKPOINT_STEP': 200,
}
