# Shared by the sweep scripts. The runs themselves (zoo presets, overrides, folders, resumable stages) are
# `solo-ext sweep`'s, declared once with the paper tables in solo_ext/reporting/paper_tables.py; the
# per-table scripts hand their flags to it, the reproduce_<paper>.sh scripts add data preparation and the
# paper tables around it. Usage inside a script: source "$(dirname "$0")/common.sh"

GPUS="0"; SEEDS="5"; OUT="sweeps"; DRY_RUN=0; ONLY=""; LAUNCHER="solo-ext"; PRETRAIN_ARGS=""; EVAL_ARGS=""
EXTRA=()

require_solo_ext() {
  command -v solo-ext >/dev/null || { echo "solo-ext is not installed" >&2; exit 2; }
}

sweep_experiment() {  # sweep_experiment EXPERIMENT ARGS...: a per-table script, all its flags as solo-ext sweep's
  require_solo_ext
  exec solo-ext sweep "$@"
}

# ---- reproduce_<paper>.sh: several datasets, data preparation, sweeps, then the paper's tables
# Scripts set DATASETS (default), define usage_text and, for their own flags, handle_flag NAME VALUE (0: taken).
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

reproduce_flag() {
  if declare -F handle_flag >/dev/null && handle_flag "$1" "$2"; then return 0; fi
  case "$1" in
    --datasets) DATASETS="$2" ;;
    --gpus) GPUS="$2" ;;
    --seeds) SEEDS="$2" ;;
    --out) OUT="$2" ;;
    --only) ONLY="$2" ;;
    --pretrain-args) PRETRAIN_ARGS="$2" ;;
    --eval-args) EVAL_ARGS="$2" ;;
    --launcher) LAUNCHER="$2" ;;
    *) return 1 ;;
  esac
}

parse_reproduce_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dry-run) DRY_RUN=1; shift; continue ;;
      -h|--help) usage_text; exit 0 ;;
      --) shift; EXTRA=("$@"); break ;;
    esac
    if [[ $# -lt 2 ]]; then echo "$1: needs a value" >&2; usage_text >&2; exit 2; fi
    if ! reproduce_flag "$1" "$2"; then echo "unknown argument: $1" >&2; usage_text >&2; exit 2; fi
    shift 2
  done
  require_solo_ext
  ZOO="$(solo-ext zoo 2>/dev/null)"
  # the flags every sweep takes; PRETRAIN_ARGS and EVAL_ARGS are split into overrides by solo-ext sweep
  SWEEP_ARGS=(--gpus "$GPUS" --seeds "$SEEDS" --out "$OUT" --only "$ONLY"
              --pretrain-args "$PRETRAIN_ARGS" --eval-args "$EVAL_ARGS")
  if [[ "$LAUNCHER" != solo-ext ]]; then SWEEP_ARGS+=(--launcher "$LAUNCHER"); fi
  if [[ $DRY_RUN -eq 1 ]]; then SWEEP_ARGS+=(--dry-run); fi
}

run() {  # prints the command; runs it unless --dry-run
  printf '%q ' "$@"; echo
  if [[ $DRY_RUN -eq 0 ]]; then "$@"; fi
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

check_experiments() {  # check_experiments DATASET EXPERIMENT...: the flags and overrides fit, before data preparation
  local dataset="$1"; shift
  solo-ext sweep "$@" --dataset "$dataset" "${SWEEP_ARGS[@]}" --check -- "${EXTRA[@]}"
}

experiment() {  # experiment DATASET EXPERIMENT... [flags]: solo-ext sweep; it prints its own commands
  local dataset="$1"; shift
  local names=()
  while [[ $# -gt 0 && "$1" != -* ]]; do names+=("$1"); shift; done
  solo-ext sweep "${names[@]}" --dataset "$dataset" "${SWEEP_ARGS[@]}" "$@" -- "${EXTRA[@]}"
}

sweep() {  # sweep SCRIPT DATASET [script flags]: one of the per-table sweep scripts beside this file
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
