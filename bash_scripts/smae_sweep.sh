#!/usr/bin/env bash
# SMAE Table 1 / masking ablation: alpha in {0, 0.5, 1} x masking in {random (75%), block (50%)}, plus the
# MAE baseline on ViT-Lite, each pretrained then linear-probed (SMAE's probe) and kNN-evaluated.
# Needs the critic named in the configs (solo-ext critic train --data ... --out ./critics/<dataset>-squeezenet1_1.pt).
#   bash_scripts/smae_sweep.sh --dataset tiny-imagenet --gpus 0 --seeds 5 --out runs/smae [--dry-run]
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_args "$@"
LINEAR_CONFIG=smae-linear

for SEED in $SEEDS; do
  pretrain_and_evaluate mae-lite "$OUT/$DATASET/mae-lite/seed$SEED" "name=mae-lite-$DATASET-seed$SEED"
  for alpha in 0 0.5 1; do
    for masking in random block; do
      ratio=$([[ $masking == block ]] && echo 0.5 || echo 0.75)
      pixels=$([[ $alpha == 0 ]] && echo masked || echo all)  # alpha 0 is MAE: masked patches only
      pretrain_and_evaluate smae "$OUT/$DATASET/smae-a$alpha-$masking/seed$SEED" \
        "name=smae-$DATASET-a$alpha-$masking-seed$SEED" "++method_kwargs.smae.alpha=$alpha" \
        "++method_kwargs.smae.masking=$masking" "method_kwargs.mask_ratio=$ratio" "++method_kwargs.smae.pixel_loss=$pixels"
    done
  done
done
