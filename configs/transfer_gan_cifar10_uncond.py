"""gan_cifar_resnet.py unconditional (the WGAN-GP paper's 7.86 Inception Score setting)."""
from configs.transfer_gan_cifar10 import CONFIG as CONDITIONAL

MODEL = 'transfer_gan'
CONFIG = dict(CONDITIONAL, CONDITIONAL=False, ACGAN=False)
