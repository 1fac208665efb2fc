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
MASK_RATIOS="0.5 0.6 0.65 0.7 0.8 0.85 0.9"  # 0.75 is the mae-lite run of the sweep
# the run folders smae_sweep.sh writes below OUT/tiny-imagenet/
SWEEP_RUNS="mae-lite smae-a0-random smae-a0-block smae-a0.5-random smae-a0.5-block smae-a1-random smae-a1-block"
usage_text() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; shared_usage; }
handle_flag() {
  case "$1" in
    --tiny-imagenet-src) TIN_SRC="$2" ;;
    --cub-src) CUB_SRC="$2" ;;
    --mask-ratios) MASK_RATIOS="$2" ;;
    --critic-args) read -ra CRITIC_ARGS <<<"$2" ;;
    --datasets) echo "--datasets: reproduce_smae.sh runs Tiny-ImageNet (and CUB-200 with --cub-src) only" >&2; exit 2 ;;
    *) return 1 ;;
  esac
}
parse_reproduce_args "$@"
DATASET=tiny-imagenet
CRITIC=./critics/tiny-imagenet-squeezenet1_1.pt  # the path the zoo's SMAE configs name
finetune_cub() { [[ -n "$CUB_SRC" || -d datasets/cub200-64 ]]; }

# the evaluation overrides must fit every probe config before hours of pretraining
eval_data tiny-imagenet smae-finetune
eval_data tiny-imagenet smae-linear
if finetune_cub; then eval_data cub200 smae-finetune; fi

if [[ -n "$TIN_SRC" ]]; then prepare_once datasets/tiny-imagenet solo-ext data tiny-imagenet --src "$TIN_SRC" --out datasets/tiny-imagenet
else require_folder datasets/tiny-imagenet "pass --tiny-imagenet-src <extracted tiny-imagenet-200>"; fi
if [[ -n "$CUB_SRC" ]]; then prepare_once datasets/cub200-64 solo-ext data cub200 --src "$CUB_SRC" --out datasets/cub200-64 --size 64; fi
if [[ -e "$CRITIC" ]]; then echo "skip critic: $CRITIC exists"
else run solo-ext critic train --data datasets/tiny-imagenet --out "$CRITIC" --size 64 \
  --mean 0.4802 0.4481 0.3975 --std 0.2770 0.2691 0.2821 --epochs 200 "${CRITIC_ARGS[@]}"; fi

# pretraining + SMAE's linear probe + kNN for MAE-Lite and alpha in {0, 0.5, 1} x random/block masking
sweep smae_sweep.sh tiny-imagenet
# the paper's main protocol: fine-tuning, on Tiny-ImageNet and (with --cub-src or ./datasets/cub200-64) CUB-200
for SEED in $SEEDS; do
  for run in $SWEEP_RUNS; do
    selected "$run" || continue
    run_dir="$OUT/tiny-imagenet/$run/seed$SEED"
    ckpt_dir=$(newest_checkpoint_dir "$run_dir/pretrain")
    evaluate tiny-imagenet smae-finetune "$ckpt_dir" "$run_dir/finetune"
    if finetune_cub; then evaluate cub200 smae-finetune "$ckpt_dir" "$run_dir/finetune-cub200"; fi
  done
  for ratio in $MASK_RATIOS; do  # MAE mask-ratio sweep, linear probe
    LINEAR_CONFIG=smae-linear pretrain_and_evaluate mae-lite "$OUT/tiny-imagenet/mae-lite-mask$ratio/seed$SEED" \
      "name=mae-lite-tiny-imagenet-mask$ratio-seed$SEED" "method_kwargs.mask_ratio=$ratio"
  done
done
paper_table smae-finetune
paper_table smae-mask-ratio
