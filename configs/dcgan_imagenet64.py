"""DCGAN at 64x64 as in the paper (Radford et al. 2016): G from 1024 maps at 4x4, D up to 1024,
batch 128, Adam 2e-4 / beta1 0.5; images from a folder."""
MODEL = 'dcgan'
CONFIG = {
    'dataset': 'folder',
    'data_path': 'data/imagenet/train',
    'IMAGE_SIZE': 64,
    'EPOCHS': 20.,
    'CHECKPOINT_STEP': 5000,
    'SAVE_SAMPLES_STEP': 1000,
}
