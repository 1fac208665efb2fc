# Shared by the sweep scripts: argument parsing, dry-run aware execution, checkpoint lookup.
# Usage inside a script: source "$(dirname "$0")/common.sh"; parse_args "$@"

DATASET=""; GPUS="0"; SEEDS="5"; OUT="sweeps"; DRY_RUN=0; EXTRA=()

usage() {
  cat <<USAGE
usage: $(basename "$0") --dataset NAME [--gpus 0,1] [--seeds "5 6 7"] [--out DIR] [--dry-run] [-- hydra overrides]
  --dataset  a folder of zoo_configs/pretrain (cifar100, stl10, tiny-imagenet, imagenet100, digits)
  --gpus     comma-separated device ids, passed as devices=[...]
  --seeds    space-separated seeds, one full run per seed
  --out      output folder (checkpoints and logs); existing runs are never overwritten
  --dry-run  print the commands instead of running them
USAGE
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dataset) DATASET="$2"; shift 2 ;;
      --gpus) GPUS="$2"; shift 2 ;;
      --seeds) SEEDS="$2"; shift 2 ;;
      --out) OUT="$2"; shift 2 ;;
      --dry-run) DRY_RUN=1; shift ;;
      -h|--help) usage; exit 0 ;;
      --) shift; EXTRA=("$@"); break ;;
      *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
  done
  if [[ -z "$DATASET" ]]; then echo "--dataset is required" >&2; usage >&2; exit 2; fi
  ZOO="$(solo-ext zoo 2>/dev/null)" || { echo "solo-ext is not installed" >&2; exit 2; }
  if [[ ! -d "$ZOO/pretrain/$DATASET" ]]; then
    echo "--dataset: no zoo configs for '$DATASET'; allowed: $(ls "$ZOO/pretrain" | tr '\n' ' ')" >&2; exit 2
  fi
  DEVICES="devices=[$GPUS]"
}

run() {  # prints the command; runs it unless --dry-run
  printf '%q ' "$@"; echo
  if [[ $DRY_RUN -eq 0 ]]; then "$@"; fi
}

newest_checkpoint_dir() {  # the folder of the newest .ckpt below $1
  if [[ $DRY_RUN -eq 1 ]]; then echo "$1"; return; fi
  local ckpt
  ckpt=$(find "$1" -name '*.ckpt' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
  [[ -n "$ckpt" ]] || { echo "no checkpoint below $1" >&2; exit 1; }
  dirname "$ckpt"
}

# pretrain CONFIG RUN_DIR [overrides...]: one pretraining run, then linear probe and kNN on its checkpoint
pretrain_and_evaluate() {
  local config="$1" run_dir="$2"; shift 2
  if [[ $DRY_RUN -eq 0 && -e "$run_dir" ]]; then
    echo "skip $run_dir: it exists (remove it to rerun)"; return
  fi
  run solo-ext pretrain --config-path "$ZOO/pretrain/$DATASET" --config-name "$config" \
    "$DEVICES" "seed=$SEED" "checkpoint.dir=$run_dir/pretrain" "$@" "${EXTRA[@]}"
  local ckpt_dir
  ckpt_dir=$(newest_checkpoint_dir "$run_dir/pretrain")
  run solo-ext linear --config-path "$ZOO/linear/$DATASET" --config-name "${LINEAR_CONFIG:-linear}" \
    "$DEVICES" "pretrained_feature_extractor='$ckpt_dir'" "checkpoint.dir=$run_dir/linear" "${EXTRA[@]}"
  local data_args
  data_args=$(python3 - "$ZOO/linear/$DATASET/${LINEAR_CONFIG:-linear}.yaml" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))["data"]
print(data["dataset"], data["train_path"], data["val_path"])
PY
)
  read -r dataset train_path val_path <<<"$data_args"
  if [[ $DRY_RUN -eq 0 ]]; then mkdir -p "$run_dir"; fi
  run solo-ext knn --pretrained_checkpoint_dir "$ckpt_dir" --dataset "$dataset" \
    --train_data_path "$train_path" --val_data_path "$val_path" --k 10 --distance_function euclidean \
    --out "$run_dir/knn.json"
}
