#!/bin/bash
# Ascend ModelZoo: full training on one device (the preset's ITERS unless --train_steps).
#   bash test/train_full_1p.sh --data_path=./dataset [--output_path=DIR] [--train_steps=N]
#       [--batch_size=64] [--preset=transfer_gan_cifar10] [--ANY_SETTING=VALUE ...]
perf_flag=0
default_steps=""
source "$(dirname "$0")/modelzoo_common.sh" "$@"
