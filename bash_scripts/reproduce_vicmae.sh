#!/usr/bin/env bash
# ViC-MAE (Hernandez et al.): pretraining with the official code's preset (vicmae) and/or the paper's
# (vicmae-paper), then the linear probe (BatchNorm without affine before the head, SGD 0.1, 90 epochs) -> table.
#   bash_scripts/reproduce_vicmae.sh --datasets imagenet --presets "vicmae vicmae-paper" --gpus 0,1,2,3,4,5,6,7 \
#     --seeds 5 --out runs/vicmae [--dry-run] [-- hydra overrides]
# Data: ./datasets/imagenet/{train,val} (imagenet), ./datasets/imagenet-100 (imagenet100); cifar100 is downloaded;
# digits is written to ./data/digits.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DATASETS="imagenet"; PRESETS=()  # default: the table's, vicmae and vicmae-paper
usage_text() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; shared_usage; }
handle_flag() { case "$1" in --presets) PRESETS=(--presets "$2") ;; *) return 1 ;; esac; }
parse_reproduce_args "$@"
for dataset in $DATASETS; do check_experiments "$dataset" vicmae-linear "${PRESETS[@]}"; done

for dataset in $DATASETS; do
  prepare_dataset "$dataset"
  experiment "$dataset" vicmae-linear "${PRESETS[@]}"
done
paper_table vicmae-linear
