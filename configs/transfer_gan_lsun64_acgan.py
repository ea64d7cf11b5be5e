"""transfer_gan.py as published (ACGAN=True): the 64x64 networks with conditional BatchNorm and
an AC-GAN head over the 10 LSUN classes (``data/LSUN_10/<class>/train``), AC-GAN scales 1.0 and
1.0; start it from transfer_model/conditional/<source>/wgan-gp.model."""
MODEL = 'transfer_gan'
CONFIG = {
    'dataset': 'folder',
    'data_path': 'data/LSUN_10',
    'ARCH': 'good_resnet',
    'IMAGE_SIZE': 64,
    'DIM_G': 64,
    'DIM_D': 64,
    'NORMALIZATION_D': True,
    'ACGAN_SCALE_G': 1.,
    'batch_size': 16,
    'GEN_BS_MULTIPLE': 1,
    'LR': 1e-5,
    'DECAY': False,
    'ITERS': 25009,
    'CHECKPOINT_STEP': 4000,
    'SAVE_SAMPLES_STEP': 50,
}
