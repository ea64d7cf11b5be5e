"""transfer_gan.py as published (ACGAN=True): the 64x64 networks with conditional BatchNorm and
an AC-GAN head over the 10 LSUN classes (``data/LSUN_10/<class>/train``), AC-GAN scales 1.0 and
1.0; start it from transfer_model/conditional/<source>/wgan-gp.model."""
from configs.transfer_gan_lsun64 import CONFIG as UNCONDITIONAL

MODEL = 'transfer_gan'
CONFIG = dict(UNCONDITIONAL, data_path='data/LSUN_10', CONDITIONAL=True, ACGAN=True,
              ACGAN_SCALE_G=1.)
