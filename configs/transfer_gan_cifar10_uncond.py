"""gan_cifar_resnet.py unconditional (the WGAN-GP paper's 7.86 Inception Score setting)."""
MODEL = 'transfer_gan'
CONFIG = {
    'dataset': 'cifar10',
    'data_path': './dataset',
    'DEQUANTIZE': True,
    'CONDITIONAL': False,
    'ACGAN': False,
}
