"""Seed 002 (the Ascend port) = gan_cifar_resnet.py: CIFAR-10 32x32, conditional AC-GAN WGAN-GP
ResNet, DIM_G = DIM_D = 128, batch 64 (generator 128), LR 2e-4 decayed linearly over 100k
generator steps, 5 critic steps, AC-GAN scales 1.0 (critic) and 0.1 (generator). The model's
defaults are these settings; this preset adds the data."""
MODEL = 'transfer_gan'
CONFIG = {
    'dataset': 'cifar10',
    'data_path': './dataset',
    'DEQUANTIZE': True,
}
