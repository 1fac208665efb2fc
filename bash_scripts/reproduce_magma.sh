#!/usr/bin/env bash
# MAGMA (Dondera et al., WACV 2025): data -> Tables 1, 4, 5 (pretrain, linear probe, kNN k=10) -> tables.
#   bash_scripts/reproduce_magma.sh --datasets "cifar100 tiny-imagenet" --tables "1" --gpus 0 --seeds "5 6 7" \
#     --out runs/magma --tiny-imagenet-src ~/tiny-imagenet-200 [--dry-run] [-- hydra overrides]
# Data: cifar100 and stl10 are downloaded by solo-learn into ./datasets on first use; tiny-imagenet is built
# from the extracted archive (--tiny-imagenet-src) into ./datasets/tiny-imagenet; imagenet100 must be in
# ./datasets/imagenet-100/{train,val}. Tables 4 and 5 are ImageNet-100 ablations of the MAE family.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DATASETS="cifar100 stl10 tiny-imagenet imagenet100"; TABLES="1"; TIN_SRC=""
usage_text() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
handle_flag() {
  case "$1" in
    --tables) TABLES="$2" ;;
    --tiny-imagenet-src) TIN_SRC="$2" ;;
    *) return 1 ;;
  esac
}
parse_reproduce_args "$@"

for dataset in $DATASETS; do
  case "$dataset" in
    tiny-imagenet)
      if [[ -n "$TIN_SRC" ]]; then prepare_once datasets/tiny-imagenet solo-ext data tiny-imagenet --src "$TIN_SRC" --out datasets/tiny-imagenet
      else require_folder datasets/tiny-imagenet "pass --tiny-imagenet-src <extracted tiny-imagenet-200>"; fi ;;
    *) require_user_dataset "$dataset" ;;
  esac
done

for table in $TABLES; do
  case "$table" in
    1) for dataset in $DATASETS; do sweep magma_table1.sh "$dataset"; done ;;
    4) sweep magma_table4.sh imagenet100 ;;
    5) for SEED in $SEEDS; do  # ViT-B is Table 1's ImageNet-100 column; add ViT-S and ViT-L
         for backbone in vit_small vit_large; do
           for method in mae m-mae u-mae mu-mae; do
             DATASET=imagenet100
             pretrain_and_evaluate "$method" "$OUT/imagenet100/$method-$backbone/seed$SEED" \
               "name=$method-imagenet100-$backbone-seed$SEED" "backbone.name=$backbone"
           done
         done
       done ;;
    *) echo "--tables: '$table' is unknown; allowed: 1 4 5" >&2; exit 2 ;;
  esac
  paper_table "magma-table$table"
done
