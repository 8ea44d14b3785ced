#!/usr/bin/env bash
# Runs the seed's benchmark (benchmark-client) against a freshly started service on this machine:
# sequential N requests with the cache off, then concurrent N at concurrency C, then the same
# concurrent run plain and streamed, both with the cache off (streamed: time to the first piece),
# and stops the service it started. Last it compares the two cache-off runs: what streaming costs
# the engine (metadata.generation_time P50, streamed / plain) and throughput. A benchmark, not a
# test: it prints the client's reports and writes JSON.
#
#   bench/service_benchmark.sh [MODEL_DIR]      (default: the project's default model)
#   REQUESTS=100 CONCURRENCY=10 MAX_NEW_TOKENS=64 PORT=18190 OUT=target/service-bench bench/service_benchmark.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUESTS="${REQUESTS:-100}"
CONCURRENCY="${CONCURRENCY:-10}"
PORT="${PORT:-18190}"
OUT="${OUT:-$ROOT/target/service-bench}"
CLIENT="$ROOT/benchmark-client/target/therapeia-benchmark.jar"
mkdir -p "$OUT"
[[ -f "$CLIENT" ]] || (cd "$ROOT" && mvn -B -q -pl benchmark-client -am package -DskipTests)

export ADMIN_TOKEN="${ADMIN_TOKEN:-bench-$$}" PORT HOST=127.0.0.1
if [[ $# -gt 0 ]]; then export MODEL_PATH="$1"; fi
"$ROOT/scripts/run.sh" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

URL="http://127.0.0.1:$PORT"
CLIENT_ARGS=(--url "$URL" --wait-ready 600 --admin-token "$ADMIN_TOKEN")
if [[ -n "${MAX_NEW_TOKENS:-}" ]]; then CLIENT_ARGS+=(--max-new-tokens "$MAX_NEW_TOKENS"); fi
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; model: ${MODEL_PATH:-default}"
java -jar "$CLIENT" "${CLIENT_ARGS[@]}" --json "$OUT/sequential-cache-off.json" sequential --requests "$REQUESTS" --cache off
java -jar "$CLIENT" "${CLIENT_ARGS[@]}" --clear-cache --json "$OUT/concurrent.json" concurrent --requests "$REQUESTS" --concurrency "$CONCURRENCY"

# CPU seconds the service has used so far: "engine" (the engine thread and its OpenMP workers, which
# inherit its name) and "rest" (HTTP, decoding, writing; threads that ended included). CPU time,
# unlike the engine's wall time, hardly depends on what else the machine runs.
TICKS=$(getconf CLK_TCK)
service_cpu() {
  local total engine=0 stat
  read -r stat < "/proc/$SERVER/stat"; set -- ${stat##*) }; total=$(( ${12} + ${13} ))
  for task in /proc/"$SERVER"/task/*; do
    [[ "$(cat "$task/comm" 2>/dev/null)" == therapeia-engin* ]] || continue
    read -r stat < "$task/stat" 2>/dev/null || continue
    set -- ${stat##*) }; engine=$(( engine + ${12} + ${13} ))
  done
  echo "$engine $(( total - engine ))"
}
# runs the concurrent cache-off benchmark; $1: plain or streamed; writes $OUT/concurrent-$1.json and .cpu
concurrent_cache_off() {
  local before after
  before=$(service_cpu)
  java -jar "$CLIENT" "${CLIENT_ARGS[@]}" --json "$OUT/concurrent-$1.json" concurrent --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY" --cache off "${@:2}"
  after=$(service_cpu)
  echo "$before $after $TICKS" > "$OUT/concurrent-$1.cpu"
}
concurrent_cache_off plain
concurrent_cache_off streamed --stream

# the two cache-off runs side by side: streaming should cost the engine nothing (issue 16)
"${PYTHON:-python3}" - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
plain, streamed = (json.load(open(f"{out}/concurrent-{run}.json")) for run in ("plain", "streamed"))
p50 = lambda run: run["generation_time"]["p50"]
def cpu_ms(run, report):
    """The service's CPU per request: (engine threads, the rest) in ms."""
    e0, r0, e1, r1, ticks = map(int, open(f"{out}/concurrent-{run}.cpu").read().split())
    per = 1000 / ticks / report["requests"]
    return (e1 - e0) * per, (r1 - r0) * per
print(f"== streamed vs plain, concurrent {plain['requests']} @ {plain['concurrency']}, cache off")
print(f"engine time P50 (metadata.generation_time): streamed {p50(streamed):.3f} s, plain {p50(plain):.3f} s,"
      f" ratio {p50(streamed) / p50(plain):.2f}")
print(f"tokens per reply (mean): streamed {streamed['mean_tokens_generated']:.0f}, plain {plain['mean_tokens_generated']:.0f}")
print(f"requests/s: streamed {streamed['throughput']:.1f}, plain {plain['throughput']:.1f}")
(se, sr), (pe, pr) = cpu_ms("streamed", streamed), cpu_ms("plain", plain)
print(f"service CPU per request outside the engine threads: streamed {sr:.1f} ms, plain {pr:.1f} ms"
      f" (engine threads: streamed {se:.1f} ms, plain {pe:.1f} ms)")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
