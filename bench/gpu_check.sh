#!/usr/bin/env bash
# GPU check (issue 6, DESIGN.md section 10), one command of at most ~9 minutes on an H100/H200:
# builds native/ against this machine's python3 torch (CUDA where nvcc is found; no JNI, no tests)
# into build-gpu/, then runs bench/gpu_check.py (models, parity, speed vs transformers) and prints
# a short table last. JSON, table and logs go to $OUT when it is set.
#
#   bench/gpu_check.sh              # on the GPU machine
#   bench/gpu_check.sh --dry-run    # on CPU with tiny shapes (or GPU_CHECK_DRY_RUN=1)
#
# Environment: PYTHON (default python3; must import torch and transformers), BUILD_DIR (default
# build-gpu), GPU_CHECK_MODELS (default /tmp/therapeia-gpu-models), GPU_CHECK_BUDGET (seconds for
# everything, default 540), OUT. Other arguments are passed to gpu_check.py.
set -uo pipefail
START=$(date +%s)
cd "$(dirname "$0")/.."
DRY=${GPU_CHECK_DRY_RUN:-0}
PASS=()
for a in "$@"; do
  if [ "$a" = "--dry-run" ]; then DRY=1; else PASS+=("$a"); fi
done
PY=${PYTHON:-python3}
BUILD=${BUILD_DIR:-build-gpu}
BUDGET=${GPU_CHECK_BUDGET:-540}
LOGDIR=${OUT:-/tmp/therapeia-gpu-check}
mkdir -p "$LOGDIR"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error TOKENIZERS_PARALLELISM=false

echo "== gpu_check $(date -u +%FT%TZ) dry_run=$DRY python=$PY build=$BUILD budget=${BUDGET}s"
if ! "$PY" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "| transformers", transformers.__version__)'; then
  echo "gpu_check: $PY cannot import torch and transformers (set PYTHON)"; exit 2
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader
command -v nvcc >/dev/null && nvcc --version | tail -1

# --- build: CUDA through TorchConfig where nvcc is found (cmake/FindLibTorch.cmake), else CPU ---
JOBS=$(nproc)
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
BUILD_OK=1
{
  cmake -S native -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTORCH_PYTHON="$(command -v "$PY")" \
        -DTHERAPEIA_BUILD_JNI=OFF -DTHERAPEIA_BUILD_TESTS=OFF &&
  cmake --build "$BUILD" -j"$JOBS" --target therapeia-cli therapeia-bench
} > "$LOGDIR/build.log" 2>&1 || BUILD_OK=0
grep -E "LibTorch|CUDA|therapeia_jni" "$LOGDIR/build.log" | grep -v '^\[' | head -8
if [ "$BUILD_OK" = 1 ]; then
  echo "build: ok in $(( $(date +%s) - START )) s ($(grep -c THERAPEIA_WITH_CUDA "$BUILD/compile_commands.json" 2>/dev/null || true) CUDA-enabled compile commands)"
else
  echo "build: FAILED after $(( $(date +%s) - START )) s; the last lines of $LOGDIR/build.log:"
  tail -25 "$LOGDIR/build.log"
  echo "gpu_check: continuing without the engine (transformers and bandwidth only)"
fi

DRYFLAG=()
[ "$DRY" = 1 ] && DRYFLAG=(--dry-run)
"$PY" bench/gpu_check.py "${DRYFLAG[@]}" --start "$START" --budget "$BUDGET" --build-dir "$BUILD" --out "$LOGDIR" \
      ${PASS[@]+"${PASS[@]}"} 2>&1 | tee "$LOGDIR/gpu_check.log"
RC=$?
echo "gpu_check: exit $RC, $(( $(date +%s) - START )) s in all"
exit $RC
