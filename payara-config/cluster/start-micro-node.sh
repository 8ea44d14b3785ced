#!/usr/bin/env bash
# Starts one Therapeia node on Payara Micro: the WAR at context root /, the jars that load native
# code on the server class path (--addlibs, DESIGN.md section 5), and the Data Grid (Hazelcast)
# settings that CLUSTER_MODE picks. The container image's entrypoint, and the way to start a node
# on a fixed host. README.md beside this file explains the modes.
#
# Settings (environment variables, defaults in brackets):
#   THERAPEIA_HOME        [/opt/therapeia] holds payara-micro.jar, therapeia.war, server-lib/, lib/
#   PAYARA_MICRO_JAR      [$THERAPEIA_HOME/payara-micro.jar]
#   THERAPEIA_WAR         [$THERAPEIA_HOME/therapeia.war]
#   THERAPEIA_SERVER_LIB  [$THERAPEIA_HOME/server-lib] jars for --addlibs (engine binding, tokenizers)
#   THERAPEIA_NATIVE_LIBRARY [$THERAPEIA_HOME/lib/libtherapeia_jni.so]
#   PORT                  [8080] HTTP port
#   WORKERS               [] the most threads of Payara's HTTP pool (at least 2), as scripts/run.sh
#   CLUSTER_MODE          [none] none | tcpip | kubernetes | hazelcast-tcpip | hazelcast-kubernetes
#   CLUSTER_NAME          [therapeia] nodes join only a cluster of the same name (on Kubernetes it
#                         comes from the Secret therapeia-cluster: hard to guess, never in a ConfigMap)
#   CACHE_SECRET          (every mode but none: required) the response cache's secret, the same on
#                         every member, at least 32 characters (openssl rand -base64 32). The WAR reads
#                         it from the environment as cache.secret; it never goes on a command line.
#   CLUSTER_PORT          [6900] the Data Grid member port
#   CLUSTER_MEMBERS       (tcpip modes) every member as host:port, comma separated
#   CLUSTER_INTERFACES    (tcpip modes) this node's address on the cluster network (or a pattern
#                         such as 10.0.0.*); one value in the hazelcast-tcpip mode
#   KUBERNETES_NAMESPACE  (kubernetes modes) [$POD_NAMESPACE, else the service account's namespace]
#   HAZELCAST_SERVICE     (kubernetes modes) [therapeia-hazelcast] the headless Service of the members
#   HAZELCAST_CONFIG      (hazelcast-* modes) [$THERAPEIA_HOME/cluster/hazelcast-<tcpip|kubernetes>.xml]
#   PREBOOT_COMMANDS      optional asadmin command file run before boot (--prebootcommandfile)
#   POSTBOOT_COMMANDS     optional asadmin command file run after boot (--postbootcommandfile)
#   JAVA_OPTS             [-Xms2g -Xmx2g -XX:+AlwaysPreTouch] JVM options (the engine's memory is
#                         native, outside the heap; a fixed, pre-touched heap keeps resident memory flat)
#   PAYARA_ARGS           extra Payara Micro options, appended
#   DRY_RUN               [0] 1 = print the command line instead of running it
# The service's own settings (MODEL_PATH, DEVICE, CACHE_SIZE, ADMIN_TOKEN, CACHE_SECRET...) are read
# by the WAR through MicroProfile Config from the environment; this script passes them on untouched
# (it only checks that a clustered node has CACHE_SECRET).
set -euo pipefail

home=${THERAPEIA_HOME:-/opt/therapeia}
micro_jar=${PAYARA_MICRO_JAR:-$home/payara-micro.jar}
war=${THERAPEIA_WAR:-$home/therapeia.war}
server_lib=${THERAPEIA_SERVER_LIB:-$home/server-lib}
native_library=${THERAPEIA_NATIVE_LIBRARY:-$home/lib/libtherapeia_jni.so}
port=${PORT:-8080}
mode=${CLUSTER_MODE:-none}
cluster_name=${CLUSTER_NAME:-therapeia}
cluster_port=${CLUSTER_PORT:-6900}
dry_run=${DRY_RUN:-0}

fail() {
  echo "start-micro-node: $*" >&2
  exit 2
}

require() { # name value
  [[ -n "$2" ]] || fail "CLUSTER_MODE=$mode needs $1"
}

# Hazelcast open source lets anyone who reaches the member port read and write the cache: members
# trust an entry only if it was sealed (AES-256-GCM) with this secret. A clustered node without it
# would be refused the cache by the WAR; refusing here keeps it out of the cluster altogether.
require_cache_secret() {
  require "CACHE_SECRET (the response cache's secret, the same on every member: openssl rand -base64 32)" \
    "${CACHE_SECRET:-}"
  # the WAR enforces the same length (cache.secret)
  (( ${#CACHE_SECRET} >= 32 )) || fail "CACHE_SECRET has ${#CACHE_SECRET} characters; it needs at least 32"
}

kubernetes_namespace() {
  local sa=/var/run/secrets/kubernetes.io/serviceaccount/namespace
  if [[ -n "${KUBERNETES_NAMESPACE:-}" ]]; then
    echo "$KUBERNETES_NAMESPACE"
  elif [[ -n "${POD_NAMESPACE:-}" ]]; then
    echo "$POD_NAMESPACE"
  elif [[ -r $sa ]]; then
    cat "$sa"
  fi
}

java_args=(
  "-Dtherapeia.native.library=$native_library"
  # DJL tokenizers: use the native library inside the jar, never download, no telemetry
  "-Dai.djl.offline=true"
  "-Dhazelcast.phone.home.enabled=false"
)
# Payara Micro's own runtime folder (default: a temporary one) is deleted by a JVM shutdown hook
# that runs beside the server's stop: on SIGTERM the WAR unpacked in it would lose its class files
# and resources while its requests drain. A folder named here is left alone; emptied at each start.
runtime_dir="${TMPDIR:-/tmp}/therapeia-payara-runtime-$port"
if [[ "$dry_run" != 1 ]]; then
  rm -rf "$runtime_dir"
fi
micro_args=(--deploy "$war" --contextroot / --port "$port" --rootdir "$runtime_dir" --disablephonehome)
if [[ -d "$server_lib" || "$dry_run" == 1 ]]; then
  micro_args+=(--addlibs "$server_lib")
else
  fail "no $server_lib: the engine binding and tokenizer jars go there (see payara-config/deploy/stage-image.sh)"
fi

case "$mode" in
  none)
    # JCache still works, on this node only
    micro_args+=(--nocluster)
    ;;
  tcpip)
    require_cache_secret
    require CLUSTER_MEMBERS "${CLUSTER_MEMBERS:-}"
    require CLUSTER_INTERFACES "${CLUSTER_INTERFACES:-}"
    micro_args+=(--clustername "$cluster_name" --clustermode "tcpip:$CLUSTER_MEMBERS"
                 --interfaces "$CLUSTER_INTERFACES" --startport "$cluster_port")
    java_args+=("-Dhazelcast.socket.bind.any=false")
    ;;
  kubernetes)
    require_cache_secret
    namespace=$(kubernetes_namespace)
    require "KUBERNETES_NAMESPACE (or POD_NAMESPACE)" "$namespace"
    service=${HAZELCAST_SERVICE:-therapeia-hazelcast}
    micro_args+=(--clustername "$cluster_name" --clustermode "kubernetes:$namespace,$service"
                 --startport "$cluster_port")
    ;;
  hazelcast-tcpip)
    require_cache_secret
    require CLUSTER_MEMBERS "${CLUSTER_MEMBERS:-}"
    require CLUSTER_INTERFACES "${CLUSTER_INTERFACES:-}"
    [[ "$CLUSTER_INTERFACES" != *,* ]] || fail "hazelcast-tcpip takes one CLUSTER_INTERFACES value (an address or a pattern)"
    config=${HAZELCAST_CONFIG:-$home/cluster/hazelcast-tcpip.xml}
    [[ "$dry_run" == 1 || -r "$config" ]] || fail "cannot read HAZELCAST_CONFIG $config"
    micro_args+=(--hzconfigfile "$config")
    java_args+=("-Dtherapeia.cluster.name=$cluster_name" "-Dtherapeia.cluster.port=$cluster_port"
                "-Dtherapeia.cluster.members=$CLUSTER_MEMBERS" "-Dtherapeia.cluster.interface=$CLUSTER_INTERFACES"
                "-Dhazelcast.socket.bind.any=false")
    ;;
  hazelcast-kubernetes)
    require_cache_secret
    namespace=$(kubernetes_namespace)
    require "KUBERNETES_NAMESPACE (or POD_NAMESPACE)" "$namespace"
    config=${HAZELCAST_CONFIG:-$home/cluster/hazelcast-kubernetes.xml}
    [[ "$dry_run" == 1 || -r "$config" ]] || fail "cannot read HAZELCAST_CONFIG $config"
    micro_args+=(--hzconfigfile "$config")
    java_args+=("-Dtherapeia.cluster.name=$cluster_name" "-Dtherapeia.cluster.port=$cluster_port"
                "-Dtherapeia.kubernetes.namespace=$namespace"
                "-Dtherapeia.kubernetes.service=${HAZELCAST_SERVICE:-therapeia-hazelcast}")
    ;;
  *)
    fail "unknown CLUSTER_MODE '$mode' (none, tcpip, kubernetes, hazelcast-tcpip, hazelcast-kubernetes)"
    ;;
esac

if [[ -n "${WORKERS:-}" ]]; then
  [[ "$WORKERS" =~ ^[0-9]+$ ]] || fail "WORKERS must be a number"
  # Payara Micro refuses a pool of fewer than 2 threads
  micro_args+=(--minhttpthreads 2 --maxhttpthreads "$(( WORKERS > 2 ? WORKERS : 2 ))")
fi
if [[ -n "${PREBOOT_COMMANDS:-}" ]]; then
  micro_args+=(--prebootcommandfile "$PREBOOT_COMMANDS")
fi
if [[ -n "${POSTBOOT_COMMANDS:-}" ]]; then
  micro_args+=(--postbootcommandfile "$POSTBOOT_COMMANDS")
fi

read -r -a extra_java <<< "${JAVA_OPTS:--Xms2g -Xmx2g -XX:+AlwaysPreTouch}"
read -r -a extra_micro <<< "${PAYARA_ARGS:-}"
command=(java "${extra_java[@]}" "${java_args[@]}" -jar "$micro_jar" "${micro_args[@]}" "${extra_micro[@]}")

if [[ "$dry_run" == 1 ]]; then
  printf '%q ' "${command[@]}"
  echo
  exit 0
fi
exec "${command[@]}"
