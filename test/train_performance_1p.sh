#!/bin/bash
# Ascend ModelZoo: a short performance run on one device (default 100 generator steps).
#   bash test/train_performance_1p.sh --data_path=./dataset [--train_steps=N] [--batch_size=64]
perf_flag=1
default_steps=100
source "$(dirname "$0")/modelzoo_common.sh" "$@"
