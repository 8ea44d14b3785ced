#!/usr/bin/env bash
# therapeia-bench on the SmolLM2-shaped random model (cpu_benchmark.py's smollm2) for each CPU
# kernel path of this machine: AVX-512 where the CPU has it, and AVX2 forced as on an AVX2-only
# CPU (THERAPEIA_CPU_ISA=avx2 for our kernels, ONEDNN_MAX_CPU_ISA=AVX2 for oneDNN's behind
# at::linear); float32 and bfloat16; batch 1 and 8. A benchmark, not a test: prints one line per
# run (prefill and decode tokens/s, the decode step's time and its part outside the linear
# kernels) and a markdown table last.
#
#   bench/cpu_kernel_paths.sh [MODEL_DIR]
#   BENCH=native/target/cmake/therapeia-bench THREADS=2 RUNS=2 PATHS="avx512 avx2" \
#     DTYPES="float32 bfloat16" BATCHES="1 8" PROMPT_TOKENS=256 NEW_TOKENS=64 bench/cpu_kernel_paths.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="${BENCH:-$ROOT/native/target/cmake/therapeia-bench}"
PYTHON="${PYTHON:-/root/.cache/therapeia/venv-torch2.11.0/bin/python}"
THREADS="${THREADS:-$(nproc)}"
RUNS="${RUNS:-2}"
PATHS="${PATHS:-avx512 avx2}"
DTYPES="${DTYPES:-float32 bfloat16}"
BATCHES="${BATCHES:-1 8}"
MODEL="${1:-$(cd "$ROOT/bench" && "$PYTHON" -c 'import cpu_benchmark as c; print(c.ensure_model("smollm2", 0, c.DEFAULT_CACHE))' | tail -1)}"
if ! grep -q -w avx512f /proc/cpuinfo; then PATHS="${PATHS//avx512/}"; fi

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs," \
     "flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w 'avx2\|avx512f\|avx512_bf16\|amx_bf16\|fma' | sort -u | xargs)"
echo "== $BENCH on $MODEL, $THREADS threads, $RUNS runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for path in $PATHS; do
  for dtype in $DTYPES; do
    for batch in $BATCHES; do
      if [[ $path == avx2 ]]; then env=(THERAPEIA_CPU_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2); else env=(); fi
      out=$(env "${env[@]}" OMP_NUM_THREADS="$THREADS" "$BENCH" --model "$MODEL" --dtype "$dtype" \
            --threads "$THREADS" --batch "$batch" --runs "$RUNS" --prompt-tokens "${PROMPT_TOKENS:-256}" \
            --new-tokens "${NEW_TOKENS:-64}")
      echo "$path $dtype batch $batch: $out"
      rows+=("$(echo "$out" | "$PYTHON" -c "import json, sys; r = json.load(sys.stdin); print(
        f\"| $path | $dtype | $batch | {r['prefill_tokens_per_s']:.0f} | {r['decode_tokens_per_s']:.1f} | \"
        f\"{r.get('decode_step_ms', float('nan')):.1f} | {r.get('decode_step_outside_linear_ms', float('nan')):.1f} |\")")")
    done
  done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| path | dtype | batch | prefill tok/s | decode tok/s | step ms | outside linear ms |"
echo "|---|---|--:|--:|--:|--:|--:|"
printf '%s\n' "${rows[@]}"
