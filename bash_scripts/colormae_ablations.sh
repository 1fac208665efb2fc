#!/usr/bin/env bash
# ColorMAE ablations on one dataset, each pretrained then linear-probed and kNN-evaluated:
#   --ablation mask_ratio : 0.20 0.50 0.75 0.85 0.90
#   --ablation patterns   : 64 512 3072 4096 patterns in the bank
#   --ablation colors     : red blue green purple
# Linear probe: zoo_configs/linear/<dataset>/colormae-linear.yaml (MAE-style: LARS, BatchNorm head).
#   bash_scripts/colormae_ablations.sh --ablation colors --dataset imagenet100 --gpus 0,1 --seeds 5 --out runs/colormae [--dry-run]
# = solo-ext sweep colormae-mask-ratio | colormae-patterns | colormae-colors (flags: solo-ext sweep --help)
set -euo pipefail
ABLATION=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ablation) ABLATION="$2"; shift 2 ;;
    --) args+=("$@"); break ;;
    *) args+=("$1"); shift ;;
  esac
done
source "$(dirname "$0")/common.sh"
case "$ABLATION" in
  mask_ratio|patterns|colors) ;;
  *) echo "--ablation: '$ABLATION' is unknown; allowed: mask_ratio patterns colors" >&2; exit 2 ;;
esac
sweep_experiment "colormae-${ABLATION//_/-}" "${args[@]}"
