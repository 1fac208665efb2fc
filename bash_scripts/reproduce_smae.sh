#!/usr/bin/env bash
# SMAE ([Re] MAE small scale, ReScience C 2023): Tiny-ImageNet (+ CUB-200) data -> critic -> MAE/SMAE pretraining
# (alpha x masking) -> fine-tuning on Tiny-ImageNet and CUB-200 and the MAE mask-ratio linear sweep -> tables.
#   bash_scripts/reproduce_smae.sh --tiny-imagenet-src ~/tiny-imagenet-200 --cub-src ~/CUB_200_2011.tgz \
#     --gpus 0 --seeds 5 --out runs/smae [--mask-ratios "0.5 0.9"] [--critic-args "--epochs 100"] [--dry-run] \
#     [-- hydra overrides]
# --mask-ratios: the MAE mask ratios of the linear sweep ("" skips it); --critic-args: extra flags of
# `solo-ext critic train` (e.g. --epochs, --batch, --workers), after the paper's.
set -euo pipefail
source "$(dirname "$0")/common.sh"
TIN_SRC=""; CUB_SRC=""; CRITIC_ARGS=()
MASK_RATIOS=()  # default: the paper's ratios but 0.75, the mae-lite run of the sweep
usage_text() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; shared_usage; }
handle_flag() {
  case "$1" in
    --tiny-imagenet-src) TIN_SRC="$2" ;;
    --cub-src) CUB_SRC="$2" ;;
    --mask-ratios) MASK_RATIOS=(--mask-ratios "$2") ;;
    --critic-args) read -ra CRITIC_ARGS <<<"$2" ;;
    --datasets) echo "--datasets: reproduce_smae.sh runs Tiny-ImageNet (and CUB-200 with --cub-src) only" >&2; exit 2 ;;
    *) return 1 ;;
  esac
}
parse_reproduce_args "$@"
CRITIC=./critics/tiny-imagenet-squeezenet1_1.pt  # the path the zoo's SMAE configs name
# fine-tuning on Tiny-ImageNet, and on CUB-200 with --cub-src or ./datasets/cub200-64
FINETUNE_ON=tiny-imagenet
if [[ -n "$CUB_SRC" || -d datasets/cub200-64 ]]; then FINETUNE_ON+=" cub200"; fi
FINETUNE=(--finetune-on "$FINETUNE_ON")
# the evaluation overrides must fit every probe config before hours of pretraining
check_experiments tiny-imagenet smae smae-finetune smae-mask-ratio "${FINETUNE[@]}" "${MASK_RATIOS[@]}"

if [[ -n "$TIN_SRC" ]]; then prepare_once datasets/tiny-imagenet solo-ext data tiny-imagenet --src "$TIN_SRC" --out datasets/tiny-imagenet
else require_folder datasets/tiny-imagenet "pass --tiny-imagenet-src <extracted tiny-imagenet-200>"; fi
if [[ -n "$CUB_SRC" ]]; then prepare_once datasets/cub200-64 solo-ext data cub200 --src "$CUB_SRC" --out datasets/cub200-64 --size 64; fi
if [[ -e "$CRITIC" ]]; then echo "skip critic: $CRITIC exists"
else run solo-ext critic train --data datasets/tiny-imagenet --out "$CRITIC" --size 64 \
  --mean 0.4802 0.4481 0.3975 --std 0.2770 0.2691 0.2821 --epochs 200 "${CRITIC_ARGS[@]}"; fi

# pretraining + SMAE's linear probe + kNN for MAE-Lite and alpha in {0, 0.5, 1} x random/block masking
sweep smae_sweep.sh tiny-imagenet
# per seed: the paper's main protocol, fine-tuning of those runs; then the MAE mask-ratio sweep (linear probe)
experiment tiny-imagenet smae-finetune smae-mask-ratio "${FINETUNE[@]}" "${MASK_RATIOS[@]}"
paper_table smae-finetune
paper_table smae-mask-ratio
