#!/bin/bash
# Ascend ModelZoo: full training on 8 devices of one machine, one process per device, gradients
# averaged by HCCL (the preset's ITERS unless --train_steps; --batch_size is per device).
#   bash test/train_full_8p.sh --data_path=./dataset --rank_table=rank_table_8p.json
#       [--output_path=DIR] [--train_steps=N] [--batch_size=64] [--preset=...] [--KEY=VALUE ...]
perf_flag=0
default_steps=""
ranks=8
source "$(dirname "$0")/modelzoo_common.sh" "$@"
