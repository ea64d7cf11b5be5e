# Shared by the Ascend ModelZoo scripts test/train_*_{1p,8p}.sh: arguments, the run (one
# process, or one per device with HCCL when the script sets ranks=8), the summary. SIGTERM and
# SIGINT (a scheduler stopping the job, Ctrl-C) go on to the training processes, which
# checkpoint and leave; the script waits for them, writes a summary that says the run was
# interrupted, and exits 128 + the signal's number.
# Usage (from a script that sets perf_flag, default_steps and ranks):
#   source modelzoo_common.sh "$@"
cur_path=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ranks=${ranks:-1}
export RANK_SIZE=$ranks RANK_ID=${RANK_ID:-0} JOB_ID=${JOB_ID:-10087}
export DEVICE_ID=${DEVICE_ID:-0} ASCEND_DEVICE_ID=${ASCEND_DEVICE_ID:-0}
Network="Transferring-GAN_ID1252_for_TensorFlow"
data_path=""; output_path=""; train_steps="$default_steps"; batch_size=""
preset=transfer_gan_cifar10; extra=()
usage() {
  local steps=${default_steps:-"the preset's"}
  cat <<USAGE
usage: bash $(basename "$0") --data_path=DIR [options]
    --data_path              the dataset folder (required)
    --output_path            default test/output/\$ASCEND_DEVICE_ID
    --preset                 a gan_train.py preset, default transfer_gan_cifar10
    --train_steps            generator steps (default: $steps)
    --batch_size             default: the preset's (PGAN: one per resolution)
    --precision_mode         NPU precision, default allow_mix_precision
    --iterations_per_loop    NPU iterations per session call (loop sinking), default 1
    --over_dump              if or not over detection, default is False
    --over_dump_path         default <output_path>/run/overflow_dump
    --data_dump_flag         data dump flag, default is False
    --data_dump_step         data dump step, default is 10
    --data_dump_path         default <output_path>/run/data_dump
    --profiling              if or not profiling for performance debug, default is False
    --profiling_dump_path    default <output_path>/run/profiling
    --autotune               whether to enable autotune, default is False
    --rank_table             the HCCL rank table JSON (8p)
    --KEY=VALUE              any other gan_train.py setting
    -h/--help                show help message
USAGE
}
for para in "$@"; do
  case $para in
    -h|--help) usage; exit 0 ;;
    --data_path=*) data_path=${para#*=} ;;
    --output_path=*) output_path=${para#*=} ;;
    --train_steps=*) train_steps=${para#*=} ;;
    --train_epochs=*) ;;  # the template's flag; training length is --train_steps
    --batch_size=*) batch_size=${para#*=} ;;
    --preset=*) preset=${para#*=} ;;
    --rank_table=*) export RANK_TABLE_FILE=${para#*=} ;;
    --*=*) extra+=("${para%%=*}" "${para#*=}") ;;  # any gan_train.py setting
    --?*) extra+=("$para") ;;  # a bare switch (--over_dump): true
    *) echo "[Error] unknown argument $para (expected --key=value)"; exit 1 ;;
  esac
done
if [ -z "$data_path" ]; then
  echo "[Error] para \"data_path\" must be configured"; exit 1
fi
if [ "$ranks" -gt 1 ] && [ ! -f "${RANK_TABLE_FILE:-}" ]; then
  echo "[Error] ${ranks}p needs --rank_table=FILE (or RANK_TABLE_FILE): the hccl_tools JSON"; exit 1
fi
output_path=${output_path:-$cur_path/output/$ASCEND_DEVICE_ID}
mkdir -p "$output_path" || exit 1
print_log="$output_path/train_${ASCEND_DEVICE_ID}.log"
classifier="$data_path/inception/classify_image_graph_def.pb"  # the Ascend port's layout
[ -f "$classifier" ] && extra+=(--classifier "$classifier" --EXPORT_AT_END true)
[ -n "$train_steps" ] && extra+=(--ITERS "$train_steps")
[ -n "$batch_size" ] && extra+=(--batch_size "$batch_size")

cd "$cur_path/.." || exit 1
start_time=$(date +%s)
pids=()
interrupted=""
forward() {  # forward SIGNAL: stop every training process (SIGTERM: a background child of a
  # script ignores SIGINT until gan_train.py's training loop catches it)
  interrupted=$1
  [ ${#pids[@]} -eq 0 ] || kill -s TERM "${pids[@]}" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT
start_rank() {  # start_rank LOG: gan_train.py in the background, its PID in pids
  "${PYTHON:-python3}" gan_train.py --preset "$preset" --data_path "$data_path" \
    --output_path "$output_path/run" "${extra[@]}" > "$1" 2>&1 &
  pids+=($!)
}
if [ "$ranks" -eq 1 ]; then
  start_rank "$print_log"
else  # one process per device; rank 0 writes the run and the log the summary reads
  extra+=(--distributed hccl)
  for ((rank = 0; rank < ranks; rank++)); do
    RANK_ID=$rank DEVICE_ID=$rank ASCEND_DEVICE_ID=$rank \
      start_rank "$output_path/train_${rank}.log"
  done
  print_log="$output_path/train_0.log"
fi
# Poll the training processes (wait -n needs bash 4.3; CentOS 7 and EulerOS have 4.2): a
# finished one is reaped by wait, which gives its status; the first failure, unless the job was
# stopped, kills the others, which would otherwise wait in HCCL's collectives until
# HCCL_EXEC_TIMEOUT. The sleep is waited for, so a forwarded signal interrupts it.
status=0
left=("${pids[@]}")
while [ ${#left[@]} -gt 0 ]; do
  still=()
  for pid in "${left[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then still+=("$pid"); continue; fi
    wait "$pid"; code=$?
    [ $code -eq 0 ] || [ $status -ne 0 ] || status=$code
  done
  left=("${still[@]}")
  if [ $status -ne 0 ] && [ -z "$interrupted" ] && [ ${#left[@]} -gt 0 ]; then
    echo "[Error] a training process exited with $status; stopping the other ranks"
    kill -s KILL "${left[@]}" 2>/dev/null
  fi
  [ ${#left[@]} -eq 0 ] || { sleep 1 & wait $!; }
done
e2e_time=$(( $(date +%s) - start_time ))
if [ $status -ne 0 ] && [ -z "$interrupted" ]; then
  echo "[Error] training failed ($status); see $print_log"; tail -3 "$print_log"; exit $status
fi

# The batch size that ran (the preset's unless --batch_size), from the run's settings.
batch_size=${batch_size:-$(grep -so '"batch_size": [0-9]*' "$output_path/run/config.json" |
  grep -o '[0-9]*$')}
# The summary, from gan_train.py's log lines (step: ..., loss_d: ..., sec/step: ..., fps: ...).
mean_of() { grep -o "$1: [-0-9.e]*" "$print_log" | tail -10 | awk '{s += $2; n++} END {if (n) printf "%.4f", s / n}'; }
StepTime=$(mean_of 'sec/step')
ActualFPS=$(mean_of 'fps')
ActualLoss=$(grep -o 'loss_d: [-0-9.e]*' "$print_log" | tail -1 | awk '{print $2}')
TrainAccuracy=$(grep 'Final Average Distances' "$print_log" | awk '{print $8}' | tail -1)
TrainingTime=$e2e_time
[ -n "$train_steps" ] && TrainingTime=$(awk -v t="$StepTime" -v n="$train_steps" 'BEGIN {printf "%.2f", t * n}')
DeviceType=$(uname -m)
last_step=$(grep -o 'step: [0-9]*/[0-9]*' "$print_log" | tail -1 | awk '{print $2}')
RunStatus=finished
if [ -n "$interrupted" ]; then
  RunStatus="interrupted by SIG$interrupted at step ${last_step:-0}; rerun to resume"
  TrainingTime=$e2e_time
fi
CaseName="${Network}_bs${batch_size}_${RANK_SIZE}p_$([ "$perf_flag" = 1 ] && echo perf || echo acc)"
grep -o 'loss_d: [-0-9.e]*' "$print_log" | awk '{print $2}' > "$output_path/${CaseName}_loss.txt"
if ! grep -q "The model has been compiled on the Ascend AI processor" "$print_log"; then
  echo "note: this run did not use an Ascend NPU"
fi
echo "Run : $RunStatus"
echo "Final Performance images/sec : ${ActualFPS:-None}"
echo "Final Performance sec/step : ${StepTime:-None}"
echo "Final Train Accuracy : ${TrainAccuracy:-None}"
echo "E2E Training Duration sec : $e2e_time"
{
  echo "Network = ${Network}"
  echo "RankSize = ${RANK_SIZE}"
  echo "BatchSize = ${batch_size:-None}"
  echo "DeviceType = ${DeviceType}"
  echo "CaseName = ${CaseName}"
  echo "RunStatus = ${RunStatus}"
  echo "ActualFPS = ${ActualFPS:-None}"
  echo "TrainingTime = ${TrainingTime}"
  echo "ActualLoss = ${ActualLoss:-None}"
  echo "TrainAccuracy = ${TrainAccuracy:-None}"
  echo "E2ETrainingTime = ${e2e_time}"
} > "$output_path/${CaseName}.log"
case $interrupted in
  TERM) exit 143 ;;
  INT) exit 130 ;;
esac
