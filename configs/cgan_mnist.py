"""Seed 004: the conditional GAN of Mirza & Osindero on MNIST, 28x28, the paper's MLP (maxout
critic, dropout 0.5), batch 100, Adam 2e-4 / beta1 0.5. Without --data_path it trains on the
built-in digits; pass --dataset mnist --data_path DIR for the idx files. ARCH conv (with
--IMAGE_SIZE 32) is the seed's convolutional model."""
MODEL = 'cgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'CHECKPOINT_STEP': 2000,
    'SAVE_SAMPLES_STEP': 1000,
    'N_INCEPTION': 5000,
}
