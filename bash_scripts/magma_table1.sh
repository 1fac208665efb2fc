#!/usr/bin/env bash
# MAGMA Table 1 for one dataset: the 8 rows (baseline and MAGMA variant of MAE, U-MAE, SimCLR, VICReg),
# each pretrained, then linear probe (SGD 0.1, x0.1 at 60/80, 100 epochs) and kNN (k=10, Euclidean).
#   bash_scripts/magma_table1.sh --dataset cifar100 --gpus 0 --seeds "5 6 7" --out runs/table1 [--dry-run]
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_args "$@"

for SEED in $SEEDS; do
  for method in mae m-mae u-mae mu-mae simclr m-simclr vicreg m-vicreg; do
    pretrain_and_evaluate "$method" "$OUT/$DATASET/$method/seed$SEED" "name=$method-$DATASET-seed$SEED"
  done
done
