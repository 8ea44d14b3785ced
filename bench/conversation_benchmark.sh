#!/usr/bin/env bash
# The prefix cache's benchmark (issue 12): multi-turn conversations (conversation_benchmark.py)
# against a freshly started service with the prefix cache off, then on (PREFIX_CACHE_ENABLED), on
# the same model, in one run; prints each run's table per turn index and the on/off ratios, and
# stops the services it started. A benchmark, not a test.
#
#   bench/conversation_benchmark.sh [MODEL_DIR]      (default: the project's default model)
#   CONVERSATIONS=8 TURNS=10 CONCURRENCY=4 MAX_NEW_TOKENS=32 PORT=18191 bench/conversation_benchmark.sh
#   DISTINCT_OPENERS=1 ...: each conversation opens with its own message (see the client's --distinct-openers)
#   THINK_TIME=2 ...: seconds between a reply and the conversation's next turn (a person reading and
#   typing): where the engine is then idle, the service prefills a moved window's beginning ahead
#   (prefix_cache.prefill_ahead; PREFIX_CACHE_PREFILL_AHEAD=false turns it off for both runs)
#
# The service's own history window unless CONTEXT_WINDOW / CONTEXT_WINDOW_STEP are set (its
# context_window and context_window.step; defaults 10 and 6): with them, 10 turns of a
# conversation reuse their history except where the window's start moves (turns 7 and 10).
# CONTEXT_WINDOW=20 keeps all 10 turns' history; CONTEXT_WINDOW_STEP=1 is the seed's window, whose
# start moves every turn from turn 7 on.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-18191}"
OUT="${OUT:-$ROOT/target/conversation-bench}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"
export HOST=127.0.0.1 PORT WARMUP_REQUESTS="${WARMUP_REQUESTS:-3}"
# a benchmark on a busy machine measures slow turns rather than failing them
export REQUEST_TIMEOUT="${REQUEST_TIMEOUT:-300}"
export ENABLE_RESPONSE_CACHE=false  # every request also sends use_cache: false
if [[ $# -gt 0 ]]; then export MODEL_PATH="$1"; fi
ARGS=(--conversations "${CONVERSATIONS:-8}" --turns "${TURNS:-10}" --concurrency "${CONCURRENCY:-4}"
      --max-new-tokens "${MAX_NEW_TOKENS:-32}" --url "http://127.0.0.1:$PORT")
if [[ -n "${DISTINCT_OPENERS:-}" ]]; then ARGS+=(--distinct-openers); fi
if [[ -n "${THINK_TIME:-}" ]]; then ARGS+=(--think-time "$THINK_TIME"); fi

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs," \
     "flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w 'avx2\|avx512f\|avx512_bf16\|amx_bf16\|fma' | sort -u | xargs)"
echo "== model: ${MODEL_PATH:-default}; ${ARGS[*]}; context_window ${CONTEXT_WINDOW:-10 (default)} step ${CONTEXT_WINDOW_STEP:-6 (default)}; engine.threads ${ENGINE_THREADS:-0 (all)}; load average $(cut -d" " -f1-3 /proc/loadavg)"
for state in off on; do
  enabled=false; [[ "$state" == on ]] && enabled=true
  PREFIX_CACHE_ENABLED="$enabled" "$ROOT/scripts/run.sh" > "$OUT/server-$state.log" 2>&1 &
  SERVER=$!
  trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
  for _ in $(seq 600); do
    curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { echo "the service did not start: $OUT/server-$state.log"; exit 1; }
    sleep 1
  done
  "$PYTHON" "$ROOT/bench/conversation_benchmark.py" "${ARGS[@]}" --label "prefix cache $state" --json "$OUT/$state.json"
  echo
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  trap - EXIT
done
"$PYTHON" "$ROOT/bench/conversation_benchmark.py" --compare "$OUT/off.json" "$OUT/on.json"
echo
echo "== load average at the end $(cut -d" " -f1-3 /proc/loadavg)"
