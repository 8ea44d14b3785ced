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
java -jar "$CLIENT" "${CLIENT_ARGS[@]}" --json "$OUT/concurrent-plain.json" concurrent --requests "$REQUESTS" --concurrency "$CONCURRENCY" --cache off
java -jar "$CLIENT" "${CLIENT_ARGS[@]}" --json "$OUT/concurrent-streamed.json" concurrent --requests "$REQUESTS" --concurrency "$CONCURRENCY" --cache off --stream

# the two cache-off runs side by side: streaming should cost the engine nothing (issue 16)
"${PYTHON:-python3}" - "$OUT/concurrent-plain.json" "$OUT/concurrent-streamed.json" <<'PY'
import json, sys
plain, streamed = (json.load(open(path)) for path in sys.argv[1:3])
p50 = lambda run: run["generation_time"]["p50"]
print(f"== streamed vs plain, concurrent {plain['requests']} @ {plain['concurrency']}, cache off")
print(f"engine time P50 (metadata.generation_time): streamed {p50(streamed):.3f} s, plain {p50(plain):.3f} s,"
      f" ratio {p50(streamed) / p50(plain):.2f}")
print(f"tokens per reply (mean): streamed {streamed['mean_tokens_generated']:.0f}, plain {plain['mean_tokens_generated']:.0f}")
print(f"requests/s: streamed {streamed['throughput']:.1f}, plain {plain['throughput']:.1f}")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
