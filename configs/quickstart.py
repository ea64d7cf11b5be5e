"""The flagship at reduced width, conditional (AC-GAN), on the built-in MNIST digits: digit
samples in under 5 minutes on a 2-core CPU. Departs from the published CIFAR settings for
speed: widths 24, batch 32 (generator 32), 2 critic steps, LR 1e-3 decayed over 2,000 steps, and
the generator's AC-GAN term at 1.0 (transfer_gan.py's value) so classes emerge sooner. At the
end (or when its time budget runs out) it scores 5,000 samples with the built-in digit
classifier and freezes the generator."""
MODEL = 'transfer_gan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'output_path': './output/quickstart',
    'IMAGE_SIZE': 32,
    'CHANNELS': 1,
    'DIM_G': 24,
    'DIM_D': 24,
    'batch_size': 32,
    'GEN_BS_MULTIPLE': 1,
    'N_CRITIC': 2,
    'LR': 1e-3,
    'ACGAN_SCALE_G': 1.,
    'ITERS': 2000,
    'LOG_STEP': 100,
    'SAVE_SAMPLES_STEP': 250,
    'CHECKPOINT_STEP': 500,
    'MAX_MINUTES': 4.5,  # the loop's budget; start-up, scoring and export take the rest
    'N_INCEPTION': 5000,
    'EXPORT_AT_END': True,
}
