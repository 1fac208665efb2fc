#!/usr/bin/env bash
# MAGMA Table 4 ablation of M-MAE (paper: ImageNet-100), one factor at a time around lambda=1, e_st=10, e_dur=100:
#   lambda in {0.01, 0.1, 1, 10}; e_st in {0, 2, 10, 20, 50}; e_dur in {10, 50, 100, 200, 390}.
#   bash_scripts/magma_table4.sh --dataset imagenet100 --gpus 0 --seeds 5 --out runs/table4 [--dry-run]
# = solo-ext sweep magma-table4 (flags: solo-ext sweep --help; runs: solo_ext/reporting/paper_tables.py)
set -euo pipefail
source "$(dirname "$0")/common.sh"
sweep_experiment magma-table4 "$@"
