#!/usr/bin/env bash
# MAGMA Table 4 ablation of M-MAE (paper: ImageNet-100), one factor at a time around lambda=1, e_st=10, e_dur=100:
#   lambda in {0.01, 0.1, 1, 10}; e_st in {0, 2, 10, 20, 50}; e_dur in {10, 50, 100, 200, 390}.
#   bash_scripts/magma_table4.sh --dataset imagenet100 --gpus 0 --seeds 5 --out runs/table4 [--dry-run]
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_args "$@"

settings=()
for weight in 0.01 0.1 1 10; do settings+=("$weight 10 100"); done
for start in 0 2 20 50; do settings+=("1 $start 100"); done
for duration in 10 50 200 390; do settings+=("1 10 $duration"); done

for SEED in $SEEDS; do
  for setting in "${settings[@]}"; do
    read -r weight start duration <<<"$setting"
    tag="w${weight}-st${start}-dur${duration}"
    pretrain_and_evaluate m-mae "$OUT/$DATASET/m-mae-$tag/seed$SEED" "name=m-mae-$DATASET-$tag-seed$SEED" \
      "++method_kwargs.magma.weight=$weight" "++method_kwargs.magma.start_epoch=$start" \
      "++method_kwargs.magma.duration=$duration"
  done
done
