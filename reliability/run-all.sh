#!/usr/bin/env bash
# Runs the reliability checks in order, each against a service it starts itself through
# scripts/run.sh (127.0.0.1, ports 18290-18299) and stops: unless MODEL_PATH is set, overload, faults and
# shutdown serve the random-weight model (scripts/make-random-model.py: long generations), the others the
# trained default model.
# Results (JSON) and each server's captured output go to OUT (default target/reliability).
#
#   reliability/run-all.sh                 # overload runs 5 minutes (plus ~30 s warm-up)
#   DURATION=60 reliability/run-all.sh     # a shorter overload
#   OVERLOAD_JAVA_OPTS= reliability/run-all.sh   # overload with the default JVM heap
# Exit status: the number of checks that failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/target/reliability}"
PY=/usr/bin/python3
mkdir -p "$OUT"
failed=0
run() {
  local name=$1; shift
  echo "== $name ($(date -u +%H:%M:%S) UTC)"
  if "$PY" "$ROOT/reliability/$name.py" --out "$OUT" "$@" > "$OUT/$name.out" 2>&1; then
    echo "   passed"
  else
    echo "   FAILED (see $OUT/$name.json and $OUT/$name.out)"; failed=$((failed + 1))
  fi
}
# a fixed, pre-touched heap: RSS then measures native memory, not the JVM growing its heap
# (with the default heap RSS grows about 30% in the first minute; see NOTES.md)
JAVA_OPTS="${OVERLOAD_JAVA_OPTS--Xms1g -Xmx1g -XX:+AlwaysPreTouch}" run overload --duration "${DURATION:-300}"
run faults
run fuzz --count "${FUZZ_COUNT:-10000}"
run security
run poisoned
run control_tokens
run forged_cache
run shutdown --port 18298
# the OpenAI-compatible API through the official Python SDK (installed on first use into target/openai-sdk-venv)
run openai_sdk --port 18299
echo "== $failed check(s) failed; results in $OUT"
exit "$failed"
