"""Seed 003: DCGAN on 32x32 ImageNet images (a folder, labels unused), batch 128, latent 100,
feature_size 64 (G 512-256-128 maps, D 128-256-512), Adam 2e-4 / beta1 0.5, BCE, 20 epochs."""
MODEL = 'dcgan'
CONFIG = {
    'dataset': 'folder',
    'data_path': 'data/imagenet/train',
    'EPOCHS': 20.,
    'CHECKPOINT_STEP': 5000,
    'SAVE_SAMPLES_STEP': 1000,
}
