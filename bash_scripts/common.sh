# Shared by the sweep scripts: argument parsing, dry-run aware execution, stages that survive a rerun.
# Usage inside a script: source "$(dirname "$0")/common.sh"; parse_args "$@"
#
# A run is three stages: pretraining (OUT/.../pretrain/), linear probe or fine-tuning (OUT/.../linear/) and
# kNN (OUT/.../knn.json). A stage folder gets FINISHED_MARK once its command exited 0; a rerun with the same
# --out skips finished stages and stops at a folder without the mark (what an interrupted or failed attempt
# left), so nothing is overwritten and no half-trained checkpoint is evaluated.

DATASET=""; GPUS="0"; SEEDS="5"; OUT="sweeps"; DRY_RUN=0; ONLY=""; LAUNCHER="solo-ext"
EXTRA=(); PRETRAIN_ARGS=(); EVAL_ARGS=(); PRETRAIN=(solo-ext pretrain)
FINISHED_MARK=.finished

shared_usage() {
  cat <<USAGE
  --gpus           comma-separated device ids, passed as devices=[...]
  --seeds          space-separated seeds, one full run per seed
  --out            output folder; finished stages are skipped on a rerun, never overwritten
  --only           space-separated globs: run only the runs whose folder name (OUT/<dataset>/<name>/seed<S>,
                   e.g. m-mae or 'smae-a0.5-*') matches one; --dry-run shows the names
  --pretrain-args  space-separated Hydra overrides for the pretraining runs only
  --eval-args      space-separated Hydra overrides for the linear probe / fine-tuning runs only
  --launcher       solo-ext (default: solo-ext pretrain) or the path of solo-learn's own main_pretrain.py,
                   which then runs every pretraining (solo-ext methods go through our plugin, see
                   docs/solo-learn-scripts.md; solo-learn's own methods run as solo-learn runs them)
  --dry-run        print the commands instead of running them
  -- overrides     Hydra overrides for pretraining and evaluation alike: a key must be in both configs or be
                   written ++key=value (added where missing), e.g. -- max_epochs=1 ++limit_train_batches=2
USAGE
}

usage() {
  cat <<USAGE
usage: $(basename "$0") --dataset NAME [--gpus 0,1] [--seeds "5 6 7"] [--out DIR] [--only "GLOB ..."]
         [--pretrain-args "k=v ..."] [--eval-args "k=v ..."] [--dry-run] [-- hydra overrides]
  --dataset        a folder of zoo_configs/pretrain (cifar100, stl10, tiny-imagenet, imagenet100, digits, ...)
USAGE
  shared_usage
}

parse_flags() {  # parse_flags USAGE_FN FLAG_FN ARGS...: the flags all scripts share; FLAG_FN NAME VALUE takes the rest (0: taken)
  local usage_fn="$1" flag_fn="$2"; shift 2
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dry-run) DRY_RUN=1; shift; continue ;;
      -h|--help) "$usage_fn"; exit 0 ;;
      --) shift; EXTRA=("$@"); break ;;
    esac
    if [[ $# -lt 2 ]]; then echo "$1: needs a value" >&2; "$usage_fn" >&2; exit 2; fi
    case "$1" in
      --gpus) GPUS="$2" ;;
      --seeds) SEEDS="$2" ;;
      --out) OUT="$2" ;;
      --only) ONLY="$2" ;;
      --pretrain-args) read -ra PRETRAIN_ARGS <<<"$2" ;;
      --eval-args) read -ra EVAL_ARGS <<<"$2" ;;
      --launcher) LAUNCHER="$2" ;;
      *) if ! "$flag_fn" "$1" "$2"; then echo "unknown argument: $1" >&2; "$usage_fn" >&2; exit 2; fi ;;
    esac
    shift 2
  done
  choose_launcher
}

choose_launcher() {  # PRETRAIN: the command that pretrains, from --launcher
  case "$LAUNCHER" in
    solo-ext) PRETRAIN=(solo-ext pretrain) ;;
    *main_pretrain.py)
      if [[ ! -f "$LAUNCHER" ]]; then echo "--launcher: '$LAUNCHER' is not a file" >&2; exit 2; fi
      PRETRAIN=(python3 "$(cd "$(dirname "$LAUNCHER")" && pwd)/main_pretrain.py") ;;
    *) echo "--launcher: '$LAUNCHER' is not allowed; allowed: solo-ext, or the path of solo-learn's main_pretrain.py" >&2
       exit 2 ;;
  esac
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

hydra_quoted() {  # VALUE as a quoted Hydra override value: paths may hold , = [ ] or spaces
  printf "'%s'" "${1//\'/\\\'}"
}

selected() {  # selected NAME: NAME matches a glob of --only (every name does without --only)
  [[ -z "$ONLY" ]] && return 0
  local glob globs
  read -ra globs <<<"$ONLY"
  for glob in "${globs[@]}"; do
    # shellcheck disable=SC2053  # the right-hand side is a glob on purpose
    [[ "$1" == $glob ]] && return 0
  done
  return 1
}

stage_finished() {  # stage_finished DIR: 0 if a stage finished writing DIR; stops at a DIR it left unfinished
  [[ $DRY_RUN -eq 1 ]] && return 1
  if [[ -e "$1/$FINISHED_MARK" ]]; then echo "skip $1: finished"; return 0; fi
  if [[ -e "$1" ]]; then
    echo "$1: an earlier attempt did not finish (no $FINISHED_MARK in it); remove it to run this stage again" >&2
    exit 1
  fi
  return 1
}

mark_finished() {  # mark_finished DIR PATTERN: the stage writing DIR exited 0 and left a file PATTERN below DIR
  [[ $DRY_RUN -eq 1 ]] && return 0
  if [[ -z "$(find "$1" -name "$2" -print -quit 2>/dev/null)" ]]; then  # e.g. a data set with no full batch
    echo "$1: the command exited 0 but wrote no $2 there; the stage is not finished" >&2; exit 1
  fi
  touch "$1/$FINISHED_MARK"
}

newest_checkpoint_dir() {  # the folder of the newest .ckpt below the finished pretraining folder $1
  if [[ $DRY_RUN -eq 1 ]]; then echo "$1"; return; fi
  [[ -e "$1/$FINISHED_MARK" ]] || { echo "no finished pretraining in $1" >&2; exit 1; }
  local ckpt
  ckpt=$(find "$1" -name '*.ckpt' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
  [[ -n "$ckpt" ]] || { echo "no checkpoint below $1" >&2; exit 1; }
  dirname "$ckpt"
}

declare -A EVAL_DATA=()
eval_data() {  # eval_data EVAL_DATASET CONFIG: checks the evaluation overrides on the zoo config, sets EVAL_DATA_ARGS
  # (the data the probe reads, as kNN flags). Composed once per config, before any pretraining spends time.
  local key="$1/$2"
  if [[ -z "${EVAL_DATA[$key]+set}" ]]; then
    EVAL_DATA[$key]=$(python3 - "$ZOO/linear/$1" "$2" "${EXTRA[@]}" "${EVAL_ARGS[@]}" <<'PY'
import sys

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException

config_dir, name, *overrides = sys.argv[1:]
try:
    with initialize_config_dir(config_dir=config_dir, version_base="1.2"):
        data = compose(name, overrides=overrides).data
except HydraException as err:
    sys.exit(f"{config_dir}/{name}.yaml {' '.join(overrides)}: {err}")
print("\n".join(str(v) for v in (data.dataset, data.train_path, data.val_path, data.format, data.num_workers)))
PY
) || { echo "stopped before the runs it evaluates: zoo_configs/linear/$key.yaml is missing or the" \
                "evaluation overrides (-- and --eval-args) do not fit it" >&2; exit 2; }
  fi
  local values
  mapfile -t values <<<"${EVAL_DATA[$key]}"
  EVAL_DATA_ARGS=(--dataset "${values[0]}" --train_data_path "${values[1]}" --val_data_path "${values[2]}"
                  --data_format "${values[3]}" --num_workers "${values[4]}")
}

# evaluate EVAL_DATASET CONFIG CKPT_DIR OUT_DIR: solo-ext linear (probe or fine-tune) with zoo_configs/linear/EVAL_DATASET/CONFIG
evaluate() {
  local eval_dataset="$1" config="$2" ckpt_dir="$3" out_dir="$4"
  eval_data "$eval_dataset" "$config"
  stage_finished "$out_dir" && return 0
  run solo-ext linear --config-path "$ZOO/linear/$eval_dataset" --config-name "$config" \
    "$DEVICES" "${EXTRA[@]}" "${EVAL_ARGS[@]}" \
    "pretrained_feature_extractor=$(hydra_quoted "$ckpt_dir")" "checkpoint.dir=$(hydra_quoted "$out_dir")"
  mark_finished "$out_dir" results.json
}

# knn_evaluate EVAL_DATASET CONFIG CKPT_DIR OUT_JSON: k-NN (k=10, Euclidean) on the data the linear probe reads
knn_evaluate() {
  local ckpt_dir="$3" out="$4"
  eval_data "$1" "$2"
  if [[ $DRY_RUN -eq 0 && -e "$out" ]]; then echo "skip $out: finished"; return 0; fi
  run solo-ext knn --pretrained_checkpoint_dir "$ckpt_dir" "${EVAL_DATA_ARGS[@]}" \
    --k 10 --distance_function euclidean --out "$out"  # written only at the end: it exists once finished
}

# pretrain_and_evaluate CONFIG RUN_DIR [overrides...]: one pretraining run, then linear probe and kNN on its checkpoint.
# The run's own overrides come after the user's, so --, --pretrain-args cannot undo what the run is about.
pretrain_and_evaluate() {
  local config="$1" run_dir="$2"; shift 2
  selected "$(basename "$(dirname "$run_dir")")" || return 0
  local linear_config="${LINEAR_CONFIG:-linear}"
  eval_data "$DATASET" "$linear_config"
  if ! stage_finished "$run_dir/pretrain"; then
    run "${PRETRAIN[@]}" --config-path "$ZOO/pretrain/$DATASET" --config-name "$config" \
      "$DEVICES" "${EXTRA[@]}" "${PRETRAIN_ARGS[@]}" "$@" \
      "++seed=$SEED" "checkpoint.dir=$(hydra_quoted "$run_dir/pretrain")"
    mark_finished "$run_dir/pretrain" '*.ckpt'
  fi
  local ckpt_dir
  ckpt_dir=$(newest_checkpoint_dir "$run_dir/pretrain")
  evaluate "$DATASET" "$linear_config" "$ckpt_dir" "$run_dir/linear"
  knn_evaluate "$DATASET" "$linear_config" "$ckpt_dir" "$run_dir/knn.json"
}

# ---- reproduce_<paper>.sh: several datasets, data preparation, sweeps, then the paper's tables
# Scripts set DATASETS (default), define usage_text and, for their own flags, handle_flag NAME VALUE (0: taken).
reproduce_flag() {
  if declare -F handle_flag >/dev/null && handle_flag "$1" "$2"; then return 0; fi
  case "$1" in
    --datasets) DATASETS="$2" ;;
    *) return 1 ;;
  esac
}

parse_reproduce_args() {
  parse_flags usage_text reproduce_flag "$@"
  ZOO="$(solo-ext zoo 2>/dev/null)" || { echo "solo-ext is not installed" >&2; exit 2; }
  DEVICES="devices=[$GPUS]"
  SWEEP_ARGS=(--gpus "$GPUS" --seeds "$SEEDS" --out "$OUT" --only "$ONLY"
              --pretrain-args "${PRETRAIN_ARGS[*]}" --eval-args "${EVAL_ARGS[*]}")
  if [[ $DRY_RUN -eq 1 ]]; then SWEEP_ARGS+=(--dry-run); fi
}

require_folder() {  # require_folder DIR HINT: stop unless DIR exists (not in --dry-run)
  if [[ $DRY_RUN -eq 0 && ! -d "$1" ]]; then echo "missing $1: $2" >&2; exit 2; fi
}

prepare_dataset() {  # the datasets the zoo configs read from a folder: digits is made here, ImageNet(-100) must be there
  case "$1" in
    digits) prepare_once data/digits solo-ext data digits --out data/digits ;;
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
