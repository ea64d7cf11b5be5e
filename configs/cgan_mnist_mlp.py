"""Mirza & Osindero's conditional GAN as the paper describes it: 28x28 MNIST, G from z (200
ReLU) and the one-hot label (1000 ReLU) through 1200 ReLU to 784 sigmoid pixels, a maxout
critic with dropout 0.5, batch 100; trained with Adam 2e-4 / beta1 0.5 as the seed does (the
paper used SGD with momentum). Built-in digits unless --dataset mnist --data_path DIR."""
MODEL = 'cgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'CHECKPOINT_STEP': 2000,
    'SAVE_SAMPLES_STEP': 1000,
    'N_INCEPTION': 5000,
}
