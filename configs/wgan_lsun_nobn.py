"""Seed 000, second case: wgan_lsun with the generator without BatchNorm (--noBN); the critic
keeps its BatchNorm, as in the original."""
MODEL = 'wgan'
CONFIG = {
    'dataset': 'lsun_lmdb',
    'data_path': 'data/bedroom_train_lmdb',
    'noBN': True,
    'EPOCHS': 25.,
    'CHECKPOINT_STEP': 1000,
    'SAVE_SAMPLES_STEP': 500,
}
