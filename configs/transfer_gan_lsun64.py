"""transfer_gan.py, unconditional: 64x64 GoodGenerator / GoodDiscriminator (DIM 64, BatchNorm in
G, LayerNorm in the critic) with the authors' fine-tuning settings (batch 16, LR 1e-5 constant,
5 critic steps, 25,009 generator steps); start it from a released model with --finetune_from
transfer_model/unconditional/<source>/wgan-gp.model. Data: a folder of bedroom images."""
MODEL = 'transfer_gan'
CONFIG = {
    'dataset': 'folder',
    'data_path': 'data/bedroom',
    'ARCH': 'good_resnet',
    'IMAGE_SIZE': 64,
    'DIM_G': 64,
    'DIM_D': 64,
    'NORMALIZATION_D': True,
    'CONDITIONAL': False,
    'ACGAN': False,
    'batch_size': 16,
    'GEN_BS_MULTIPLE': 1,
    'LR': 1e-5,
    'DECAY': False,
    'ITERS': 25009,
    'CHECKPOINT_STEP': 4000,
    'SAVE_SAMPLES_STEP': 50,
}
