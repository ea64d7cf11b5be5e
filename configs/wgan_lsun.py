"""Seed 000: WGAN on 64x64 LSUN bedrooms (lmdb), DCGAN generator with BatchNorm, batch 64,
nz 100, ngf = ndf = 64, RMSProp 5e-5, clipping +-0.01, 5 critic steps (100 while warming up),
25 epochs of critic batches (--niter)."""
MODEL = 'wgan'
CONFIG = {
    'dataset': 'lsun_lmdb',
    'data_path': 'data/bedroom_train_lmdb',
    'EPOCHS': 25.,
    'CHECKPOINT_STEP': 1000,
    'SAVE_SAMPLES_STEP': 500,
}
