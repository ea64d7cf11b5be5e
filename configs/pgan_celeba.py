"""Seed 001 after the PGAN authors' TF code: CelebA aligned faces (their 128x128 crop), grown
4 -> 128 with depths 512, 512, 512, 512, 256, 128, 600k images per stable and per fade-in phase,
minibatches 128 (4-16), 64 (32), 32 (64), 16 (128), Adam 1e-3 (0, 0.99), mirrored reals.
The schedule ends after the 128x128 stable phase (6.6M images); the authors go on at 128x128
to 12M (--ITERS sets the end)."""
MODEL = 'pgan'
CONFIG = {
    'dataset': 'celeba',
    'data_path': 'data/img_align_celeba',
    'output_path': './output/pgan_celeba',
    'MIRROR_AUGMENT': True,
    'LOG_STEP': 100,
    'SAVE_SAMPLES_STEP': 1000,
    'CHECKPOINT_STEP': 1000,
}
