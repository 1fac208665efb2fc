#!/usr/bin/env bash
# SMAE Table 1 / masking ablation: alpha in {0, 0.5, 1} x masking in {random (75%), block (50%)}, plus the
# MAE baseline on ViT-Lite, each pretrained then linear-probed (SMAE's probe) and kNN-evaluated.
# Needs the critic named in the configs (solo-ext critic train --data ... --out ./critics/<dataset>-squeezenet1_1.pt).
#   bash_scripts/smae_sweep.sh --dataset tiny-imagenet --gpus 0 --seeds 5 --out runs/smae [--dry-run]
# = solo-ext sweep smae (flags: solo-ext sweep --help; runs: solo_ext/reporting/paper_tables.py)
set -euo pipefail
source "$(dirname "$0")/common.sh"
sweep_experiment smae "$@"
