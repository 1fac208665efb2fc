#!/usr/bin/env bash
# MAGMA (Dondera et al., WACV 2025): data -> Tables 1, 4, 5 (pretrain, linear probe, kNN k=10) -> tables.
#   bash_scripts/reproduce_magma.sh --datasets "cifar100 tiny-imagenet" --tables "1" --gpus 0 --seeds "5 6 7" \
#     --out runs/magma --tiny-imagenet-src ~/tiny-imagenet-200 [--ablation-dataset imagenet100] [--dry-run] [-- hydra overrides]
# Data: cifar100 and stl10 are downloaded by solo-learn into ./datasets on first use; tiny-imagenet is built
# from the extracted archive (--tiny-imagenet-src) into ./datasets/tiny-imagenet; imagenet100 must be in
# ./datasets/imagenet-100/{train,val}; digits is written to ./data/digits. Tables 4 and 5 are ablations of the
# MAE family on --ablation-dataset (the paper's: imagenet100).
set -euo pipefail
source "$(dirname "$0")/common.sh"
DATASETS="cifar100 stl10 tiny-imagenet imagenet100"; TABLES="1"; TIN_SRC=""; ABLATION_DATASET=imagenet100
usage_text() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; shared_usage; }
handle_flag() {
  case "$1" in
    --tables) TABLES="$2" ;;
    --tiny-imagenet-src) TIN_SRC="$2" ;;
    --ablation-dataset) ABLATION_DATASET="$2" ;;
    *) return 1 ;;
  esac
}
parse_reproduce_args "$@"
for table in $TABLES; do
  case "$table" in 1|4|5) ;; *) echo "--tables: '$table' is unknown; allowed: 1 4 5" >&2; exit 2 ;; esac
done
if [[ ! -d "$ZOO/pretrain/$ABLATION_DATASET" ]]; then
  echo "--ablation-dataset: no zoo configs for '$ABLATION_DATASET'; allowed: $(ls "$ZOO/pretrain" | tr '\n' ' ')" >&2; exit 2
fi
# the flags and overrides fit every sweep before any data preparation
for table in $TABLES; do
  case "$table" in
    1) for dataset in $DATASETS; do check_experiments "$dataset" magma-table1; done ;;
    *) check_experiments "$ABLATION_DATASET" "magma-table$table" ;;
  esac
done

for dataset in $DATASETS; do
  case "$dataset" in
    tiny-imagenet)
      if [[ -n "$TIN_SRC" ]]; then prepare_once datasets/tiny-imagenet solo-ext data tiny-imagenet --src "$TIN_SRC" --out datasets/tiny-imagenet
      else require_folder datasets/tiny-imagenet "pass --tiny-imagenet-src <extracted tiny-imagenet-200>"; fi ;;
    *) prepare_dataset "$dataset" ;;
  esac
done
if [[ " $TABLES " == *" 4 "* || " $TABLES " == *" 5 "* ]]; then prepare_dataset "$ABLATION_DATASET"; fi

for table in $TABLES; do
  case "$table" in
    1) for dataset in $DATASETS; do sweep magma_table1.sh "$dataset"; done ;;
    4) sweep magma_table4.sh "$ABLATION_DATASET" ;;
    5) experiment "$ABLATION_DATASET" magma-table5 ;;  # ViT-B is Table 1's ImageNet-100 column
  esac
  paper_table "magma-table$table"
done
