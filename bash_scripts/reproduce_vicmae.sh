#!/usr/bin/env bash
# ViC-MAE (Hernandez et al.): pretraining with the official code's preset (vicmae) and/or the paper's
# (vicmae-paper), then the linear probe (BatchNorm without affine before the head, SGD 0.1, 90 epochs) -> table.
#   bash_scripts/reproduce_vicmae.sh --datasets imagenet --presets "vicmae vicmae-paper" --gpus 0,1,2,3,4,5,6,7 \
#     --seeds 5 --out runs/vicmae [--dry-run] [-- hydra overrides]
# Data: ./datasets/imagenet/{train,val} (imagenet), ./datasets/imagenet-100 (imagenet100); cifar100 is downloaded;
# digits is written to ./data/digits.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DATASETS="imagenet"; PRESETS="vicmae vicmae-paper"
usage_text() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; shared_usage; }
handle_flag() { case "$1" in --presets) PRESETS="$2" ;; *) return 1 ;; esac; }
parse_reproduce_args "$@"
LINEAR_CONFIG=vicmae-linear

for DATASET in $DATASETS; do
  prepare_dataset "$DATASET"
  for SEED in $SEEDS; do
    for preset in $PRESETS; do
      pretrain_and_evaluate "$preset" "$OUT/$DATASET/$preset/seed$SEED" "name=$preset-$DATASET-seed$SEED"
    done
  done
done
paper_table vicmae-linear
