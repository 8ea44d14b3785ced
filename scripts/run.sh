#!/usr/bin/env bash
# Starts the Therapeia service: Payara Micro with the WAR at http://HOST:PORT/ (default
# 0.0.0.0:8080), serving MODEL_PATH (default: the project's small default model, trained on first
# use in a minute or two: a demonstration model, not a clinical one). On a fresh machine it first
# builds what is missing or older than its sources (mvn install -DskipTests, which also sets up the
# toolchain) and fetches Payara Micro through Maven. Then it replaces itself with the server (exec):
# Ctrl-C or a SIGTERM stops it.
#
# Environment (all optional; the service's own settings are in the README's configuration table,
# each settable as an environment variable, e.g. DEVICE, CACHE_SIZE, CACHE_TTL, ADMIN_TOKEN):
#   MODEL_PATH        a Hugging Face model folder (config.json, *.safetensors, tokenizer.json,
#                     tokenizer_config.json); default $THERAPEIA_CACHE/default-model
#   HOST, PORT        the HTTP listener's address and port (0.0.0.0, 8080)
#   WORKERS           the most threads of Payara's HTTP pool (at least 2); the seed's worker
#                     processes have no equivalent here: one process, one engine, continuous
#                     batching, and asynchronous requests, so a few threads serve many
#                     (default: Payara's own pool size)
#   ADMIN_TOKEN       required by POST /api/v1/cache/clear (without it, clearing is refused)
#   API_KEY           when set, required by the inference endpoints (X-API-Key or Bearer)
#   CLUSTER_MEMBERS   host:port,host:port,... of Payara Micro members sharing the response cache
#                     (Hazelcast TCP/IP discovery; without it: --nocluster, never multicast);
#                     with CLUSTER_NAME (default therapeia), CLUSTER_INTERFACES (required: the
#                     local addresses Hazelcast may bind, e.g. 10.0.0.5) and CLUSTER_PORT (the member
#                     port, default Payara's 6900, counting up when taken). Needs CACHE_SECRET: the
#                     response cache's secret (cache.secret), the same on every member, at least
#                     32 characters; passed to the WAR through the environment
#   JAVA_OPTS         extra JVM options (e.g. -Xmx4g)
#   THERAPEIA_CACHE   where the toolchain and the default model live (~/.cache/therapeia)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${THERAPEIA_CACHE:-$HOME/.cache/therapeia}"
WAR="$ROOT/webapp/target/therapeia.war"
SERVER_LIB="$ROOT/webapp/target/server-lib"
JNI_LIB="$ROOT/native/target/cmake/libtherapeia_jni.so"

log() { echo "run.sh: $*" >&2; }

# --- 1. build what is missing or older than its sources ---
# A stamp marks the last build made here; a source, build file or pom newer than it (or a missing
# artifact) means building again. Maven and CMake rebuild only what changed.
STAMP="$ROOT/target/run-build.stamp"
needs_build() {
  [[ -f "$WAR" && -f "$JNI_LIB" && -d "$SERVER_LIB" && -f "$STAMP" ]] || return 0
  [[ -n "$(find "$ROOT/pom.xml" "$ROOT/native" "$ROOT/webapp" "$ROOT/cmake" \
      \( -name target -o -name build \) -prune -o -type f -newer "$STAMP" -print -quit)" ]]
}
if needs_build; then
  log "building (mvn -B -q install -DskipTests; the first build on a machine takes a while)"
  mvn -B -q -f "$ROOT/pom.xml" install -DskipTests -Dtherapeia.cache="$CACHE_DIR"
  mkdir -p "$ROOT/target" && touch "$STAMP"
fi

# --- 2. the model ---
if [[ -z "${MODEL_PATH:-}" ]]; then
  MODEL_PATH="$CACHE_DIR/default-model"
  TORCH_VERSION="$(sed -n 's/^TORCH_VERSION=//p' "$ROOT/scripts/setup-toolchain.sh")"
  PYTHON="$CACHE_DIR/venv-torch$TORCH_VERSION/bin/python"
  if [[ ! -x "$PYTHON" ]]; then
    THERAPEIA_CACHE="$CACHE_DIR" "$ROOT/scripts/setup-toolchain.sh"
  fi
  THERAPEIA_CACHE="$CACHE_DIR" "$PYTHON" "$ROOT/scripts/make-default-model.py" "$MODEL_PATH" >&2
  log "serving the default model (a small demonstration model, not a clinical one); set MODEL_PATH for a real one"
fi
if [[ ! -f "$MODEL_PATH/config.json" ]]; then
  log "MODEL_PATH=$MODEL_PATH is not a Hugging Face model folder (no config.json)"
  exit 1
fi
export MODEL_PATH="$(cd "$MODEL_PATH" && pwd)"

# --- 3. Payara Micro, through Maven ---
PAYARA_VERSION="$(sed -n 's:.*<payara.micro.version>\(.*\)</payara.micro.version>.*:\1:p' "$ROOT/pom.xml")"
MICRO_JAR="$ROOT/target/payara-micro/payara-micro-$PAYARA_VERSION.jar"
if [[ ! -f "$MICRO_JAR" ]]; then
  log "fetching Payara Micro $PAYARA_VERSION"
  mvn -B -q -N -f "$ROOT/pom.xml" dependency:copy \
    -Dartifact="fish.payara.extras:payara-micro:$PAYARA_VERSION" -DoutputDirectory="$ROOT/target/payara-micro"
fi

# --- 4. options ---
export HOST="${HOST:-0.0.0.0}"   # read by payara-config/pre-boot-commands.asadmin
PORT="${PORT:-8080}"
if [[ -z "${ADMIN_TOKEN:-}" ]]; then
  log "ADMIN_TOKEN is not set: POST /api/v1/cache/clear will refuse every caller"
fi

JVM=(-Dtherapeia.native.library="$JNI_LIB" -Dhazelcast.phone.home.enabled=false -Dai.djl.offline=true)
# shellcheck disable=SC2206 # JAVA_OPTS is a list of options
JVM+=(${JAVA_OPTS:-})

# Payara Micro's default runtime folder is temporary and deleted by a JVM shutdown hook that runs
# beside the server's stop: on SIGTERM the WAR unpacked in it would lose its class files while its
# requests drain. This one is left alone (emptied at each start).
RUNTIME_DIR="$ROOT/target/payara-runtime/$PORT"
rm -rf "$RUNTIME_DIR" && mkdir -p "$RUNTIME_DIR"
MICRO=(--contextroot / --port "$PORT" --prebootcommandfile "$ROOT/payara-config/pre-boot-commands.asadmin"
       --addlibs "$SERVER_LIB" --rootdir "$RUNTIME_DIR" --disablephonehome)
if [[ -n "${CLUSTER_MEMBERS:-}" ]]; then
  # anyone who reaches the Hazelcast port can write the cache: members trust only entries sealed
  # with this secret, so a node without it stays out of the cluster (the WAR checks the length too)
  CACHE_SECRET="${CACHE_SECRET:-}"
  if (( ${#CACHE_SECRET} < 32 )); then
    log "CLUSTER_MEMBERS is set: CACHE_SECRET must be set too, the same on every member, at least 32 characters (openssl rand -base64 32)"
    exit 2
  fi
  export CACHE_SECRET
  MICRO+=(--clustername "${CLUSTER_NAME:-therapeia}" --clustermode "tcpip:$CLUSTER_MEMBERS")
  if [[ -n "${CLUSTER_PORT:-}" ]]; then
    MICRO+=(--startport "$CLUSTER_PORT")
  fi
  # without it Hazelcast listens on every interface, where anyone can delete entries or store
  # objects for it to deserialise (start-micro-node.sh requires it too)
  if [[ -z "${CLUSTER_INTERFACES:-}" ]]; then
    log "CLUSTER_MEMBERS is set: CLUSTER_INTERFACES must be set too, this node's address on the cluster network (e.g. 10.0.0.5)"
    exit 2
  fi
  MICRO+=(--interfaces "$CLUSTER_INTERFACES")
  JVM+=(-Dhazelcast.socket.bind.any=false)
else
  MICRO+=(--nocluster)
fi
if [[ -n "${WORKERS:-}" ]]; then
  # Payara Micro refuses a pool of fewer than 2 threads
  POOL=$(( WORKERS > 2 ? WORKERS : 2 ))
  MICRO+=(--minhttpthreads 2 --maxhttpthreads "$POOL")
fi

log "starting Payara Micro on http://$HOST:$PORT/ with $MODEL_PATH"
exec java "${JVM[@]}" -jar "$MICRO_JAR" "${MICRO[@]}" --deploy "$WAR"
