#!/usr/bin/env bash
# ColorMAE ablations on one dataset, each pretrained then linear-probed and kNN-evaluated:
#   --ablation mask_ratio : 0.20 0.50 0.75 0.85 0.90
#   --ablation patterns   : 64 512 3072 4096 patterns in the bank
#   --ablation colors     : red blue green purple
# Linear probe: zoo_configs/linear/<dataset>/colormae-linear.yaml (MAE-style: LARS, BatchNorm head).
#   bash_scripts/colormae_ablations.sh --ablation colors --dataset imagenet100 --gpus 0,1 --seeds 5 --out runs/colormae [--dry-run]
set -euo pipefail
ABLATION=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ablation) ABLATION="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
source "$(dirname "$0")/common.sh"
parse_args "${args[@]}"
LINEAR_CONFIG=colormae-linear

case "$ABLATION" in
  mask_ratio) key="method_kwargs.mask_ratio"; values="0.20 0.50 0.75 0.85 0.90" ;;
  patterns) key="++method_kwargs.colormae.num_patterns"; values="64 512 3072 4096" ;;
  colors) key="++method_kwargs.colormae.color"; values="red blue green purple" ;;
  *) echo "--ablation: '$ABLATION' is unknown; allowed: mask_ratio patterns colors" >&2; exit 2 ;;
esac

for SEED in $SEEDS; do
  for value in $values; do
    pretrain_and_evaluate colormae "$OUT/$DATASET/colormae-$ABLATION-$value/seed$SEED" \
      "name=colormae-$DATASET-$ABLATION-$value-seed$SEED" "$key=$value"
  done
done
