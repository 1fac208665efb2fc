#!/usr/bin/env bash
# ColorMAE (Hinojosa et al., ECCV 2024): ColorMAE-G pretraining with its ablations (mask ratio, number of
# patterns), each followed by the MAE-style linear probe (LARS, BatchNorm head) and kNN -> tables.
#   bash_scripts/reproduce_colormae.sh --datasets imagenet --ablations "mask_ratio patterns" --gpus 0,1,2,3,4,5,6,7 \
#     --seeds 5 --out runs/colormae [--dry-run] [-- hydra overrides]
# The paper's fine-tuning columns stay "missing": solo-ext ships the linear probe only.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DATASETS="imagenet"; ABLATIONS="mask_ratio patterns"
usage_text() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; shared_usage; }
handle_flag() { case "$1" in --ablations) ABLATIONS="$2" ;; *) return 1 ;; esac; }
parse_reproduce_args "$@"
for ablation in $ABLATIONS; do
  case "$ablation" in
    mask_ratio|patterns|colors) ;;
    *) echo "--ablations: '$ablation' is unknown; allowed: mask_ratio patterns colors" >&2; exit 2 ;;
  esac
done
for dataset in $DATASETS; do
  for ablation in $ABLATIONS; do check_experiments "$dataset" "colormae-${ablation//_/-}"; done
done

for dataset in $DATASETS; do
  prepare_dataset "$dataset"
  for ablation in $ABLATIONS; do sweep colormae_ablations.sh "$dataset" --ablation "$ablation"; done
done
paper_table colormae-mask-ratio
paper_table colormae-patterns
