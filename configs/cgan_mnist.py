"""Seed 004 (MindSpore research/cv/CGAN, the model of its 283.03 Parzen figure): the conditional
DCGAN-style model at 32x32 (label embeddings, GroupNorm(1), sigmoid pixels), batch 128, Adam
2e-4 / beta1 0.5, 50 epochs. Without --data_path it trains on the built-in digits; pass
--dataset mnist --data_path DIR for the idx files. cgan_mnist_mlp is the paper's network."""
MODEL = 'cgan'
CONFIG = {
    'dataset': 'mnist_builtin',
    'ARCH': 'conv',
    'IMAGE_SIZE': 32,
    'batch_size': 128,
    'EPOCHS': 50.,
    'CHECKPOINT_STEP': 1000,
    'SAVE_SAMPLES_STEP': 500,
    'N_INCEPTION': 5000,
}
