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

parse_flags() {  # parse_flags USAGE_FN FLAG_FN ARGS...: the flags all scripts share; FLAG_FN NAME VALUE takes the rest (0: taken)
  local usage_fn="$1" flag_fn="$2"; shift 2
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --gpus) GPUS="$2"; shift 2 ;;
      --seeds) SEEDS="$2"; shift 2 ;;
      --out) OUT="$2"; shift 2 ;;
      --dry-run) DRY_RUN=1; shift ;;
      -h|--help) "$usage_fn"; exit 0 ;;
      --) shift; EXTRA=("$@"); break ;;
      *) if [[ $# -ge 2 ]] && "$flag_fn" "$1" "$2"; then shift 2
         else echo "unknown argument: $1" >&2; "$usage_fn" >&2; exit 2; fi ;;
    esac
  done
}

sweep_flag() { case "$1" in --dataset) DATASET="$2" ;; *) return 1 ;; esac; }

parse_args() {
  parse_flags usage sweep_flag "$@"
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

# evaluate EVAL_DATASET CONFIG CKPT_DIR OUT_DIR: solo-ext linear (probe or fine-tune) with zoo_configs/linear/EVAL_DATASET/CONFIG
evaluate() {
  local eval_dataset="$1" config="$2" ckpt_dir="$3" out_dir="$4"
  if [[ $DRY_RUN -eq 0 && -e "$out_dir" ]]; then
    echo "skip $out_dir: it exists (remove it to rerun)"; return
  fi
  run solo-ext linear --config-path "$ZOO/linear/$eval_dataset" --config-name "$config" \
    "$DEVICES" "pretrained_feature_extractor='$ckpt_dir'" "checkpoint.dir=$out_dir" "${EXTRA[@]}"
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
  evaluate "$DATASET" "${LINEAR_CONFIG:-linear}" "$ckpt_dir" "$run_dir/linear"
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

# ---- reproduce_<paper>.sh: several datasets, data preparation, sweeps, then the paper's tables
# Scripts set DATASETS (default), define usage_text and, for their own flags, handle_flag NAME VALUE (0: taken).
reproduce_flag() {
  case "$1" in
    --datasets) DATASETS="$2" ;;
    *) declare -F handle_flag >/dev/null && handle_flag "$1" "$2" ;;
  esac
}

parse_reproduce_args() {
  parse_flags usage_text reproduce_flag "$@"
  ZOO="$(solo-ext zoo 2>/dev/null)" || { echo "solo-ext is not installed" >&2; exit 2; }
  DEVICES="devices=[$GPUS]"
  SWEEP_ARGS=(--gpus "$GPUS" --seeds "$SEEDS" --out "$OUT")
  if [[ $DRY_RUN -eq 1 ]]; then SWEEP_ARGS+=(--dry-run); fi
}

require_folder() {  # require_folder DIR HINT: stop unless DIR exists (not in --dry-run)
  if [[ $DRY_RUN -eq 0 && ! -d "$1" ]]; then echo "missing $1: $2" >&2; exit 2; fi
}

require_user_dataset() {  # the datasets nobody can download for you, where the zoo configs read them
  case "$1" in
    imagenet) require_folder datasets/imagenet/train "place ImageNet in ./datasets/imagenet/{train,val}" ;;
    imagenet100) require_folder datasets/imagenet-100/train "place ImageNet-100 in ./datasets/imagenet-100/{train,val}" ;;
  esac
}

prepare_once() {  # prepare_once DIR COMMAND...: run COMMAND unless DIR already exists
  local dir="$1"; shift
  if [[ -d "$dir" ]]; then echo "skip data preparation: $dir exists"; else run "$@"; fi
}

sweep() {  # sweep SCRIPT DATASET [script flags]: one of the per-dataset sweep scripts beside this file
  local script="$1" dataset="$2"; shift 2
  run_sweep bash "$(dirname "${BASH_SOURCE[0]}")/$script" --dataset "$dataset" "${SWEEP_ARGS[@]}" "$@" -- "${EXTRA[@]}"
}

run_sweep() {  # the sweep scripts print their own commands in --dry-run, so they always run
  printf '%q ' "$@"; echo
  "$@"
}

paper_table() {  # paper_table NAME: collect every results file below OUT into the paper's layout
  # the script owns OUT/NAME.md and .csv: they are rebuilt from the results on every run
  run solo-ext table "$OUT" --paper "$1" --out "$OUT/$1" --overwrite
}
