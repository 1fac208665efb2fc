#!/usr/bin/env bash
# MAGMA Table 1 for one dataset: the 8 rows (baseline and MAGMA variant of MAE, U-MAE, SimCLR, VICReg),
# each pretrained, then linear probe (SGD 0.1, x0.1 at 60/80, 100 epochs) and kNN (k=10, Euclidean).
#   bash_scripts/magma_table1.sh --dataset cifar100 --gpus 0 --seeds "5 6 7" --out runs/table1 [--dry-run]
# = solo-ext sweep magma-table1 (flags: solo-ext sweep --help; runs: solo_ext/reporting/paper_tables.py)
set -euo pipefail
source "$(dirname "$0")/common.sh"
sweep_experiment magma-table1 "$@"
