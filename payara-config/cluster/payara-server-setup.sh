#!/usr/bin/env bash
# Sets up Therapeia on Payara Server 6 (instead of Payara Micro) with asadmin, against a running
# DAS: the jars that load native code into the domain's lib/ (common class loader: they must not
# be in the WAR, DESIGN.md section 5), the JVM options, the Data Grid (Hazelcast) cluster for the
# shared response cache with TCP/IP discovery on fixed hosts, then the WAR at context root /.
# Run it once per domain; DRY_RUN=1 prints the asadmin commands instead of running them.
#
# Settings (environment variables, defaults in brackets):
#   ASADMIN           [asadmin] the asadmin of the Payara Server installation
#   ASADMIN_ARGS      [] e.g. "--host das.example --port 4848 --user admin --passwordfile /etc/payara/pw"
#   TARGET            [server] where the WAR runs: server (the DAS), an instance or a deployment group
#   CONFIG            [server-config] the configuration TARGET uses (e.g. therapeia-config)
#   SERVER_LIB        [webapp/target/server-lib] engine binding, DJL tokenizers and their dependencies
#   WAR               [webapp/target/therapeia.war]
#   NATIVE_LIBRARY    [/opt/therapeia/lib/libtherapeia_jni.so] the JNI library, same path on every host
#   CLUSTER_NAME      [therapeia]
#   CLUSTER_MEMBERS   (required) every member as host:port, e.g. 10.0.0.11:5900,10.0.0.12:5900
#   CLUSTER_INTERFACES (required) the cluster network, e.g. 10.0.0.* (one value valid on every host)
#   CLUSTER_PORT      [5900] Data Grid port of the instances (Payara Server's default start port)
#   HAZELCAST_XML     [] when set: render payara-config/cluster/hazelcast-tcpip.xml with the values
#                     above to this path and use it (needed for a cache backup count other than
#                     Hazelcast's default of 1); copy it to the same path on every host
#   BACKUP_COUNT      [1] the response cache's backup count in the rendered file
#   MODEL_PATH        [/models/therapeia-model] and DEVICE [cuda]: set as system properties
#   RESTART           [1] restart TARGET after the library and JVM changes (they need it)
#   DOMAIN, DOMAIN_DIR [] for TARGET=server on the DAS's own host: the domain's name and the folder
#                     holding it (asadmin's --domaindir). restart-domain works on a domain folder of
#                     this host whenever --host is this host, and without them takes the
#                     installation's only domain (domain1), not necessarily the DAS of ASADMIN_ARGS
#   DRY_RUN           [0]
# Not settable through asadmin: the server process must find LibTorch. Start the domain or the
# instances with LD_LIBRARY_PATH=/opt/therapeia/lib:/opt/therapeia/python/torch/lib (the layout of
# payara-config/deploy/stage-image.sh), e.g. Environment= in their systemd units.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

asadmin=${ASADMIN:-asadmin}
read -r -a asadmin_args <<< "${ASADMIN_ARGS:-}"
target=${TARGET:-server}
config=${CONFIG:-server-config}
server_lib=${SERVER_LIB:-$repo/webapp/target/server-lib}
war=${WAR:-$repo/webapp/target/therapeia.war}
native_library=${NATIVE_LIBRARY:-/opt/therapeia/lib/libtherapeia_jni.so}
cluster_name=${CLUSTER_NAME:-therapeia}
members=${CLUSTER_MEMBERS:-}
interface=${CLUSTER_INTERFACES:-}
cluster_port=${CLUSTER_PORT:-5900}
backup_count=${BACKUP_COUNT:-1}
model_path=${MODEL_PATH:-/models/therapeia-model}
device=${DEVICE:-cuda}
dry_run=${DRY_RUN:-0}
domain=${DOMAIN:-}
domain_dir=${DOMAIN_DIR:-}

fail() {
  echo "payara-server-setup: $*" >&2
  exit 2
}

[[ -n "$members" ]] || fail "set CLUSTER_MEMBERS (host:port,host:port)"
[[ -n "$interface" ]] || fail "set CLUSTER_INTERFACES (e.g. 10.0.0.*)"
[[ "$backup_count" =~ ^[0-6]$ ]] || fail "BACKUP_COUNT must be 0 to 6"
[[ "$model_path$device" != *:* ]] || fail "MODEL_PATH and DEVICE cannot contain ':' (asadmin's list separator)"

asadmin_run() { # asadmin subcommand and its arguments
  if [[ "$dry_run" == 1 ]]; then
    printf '%q ' "$asadmin" "${asadmin_args[@]}" "$@"
    echo
  else
    "$asadmin" "${asadmin_args[@]}" "$@"
  fi
}

# 1. jars that load native code: on the common class path (domain lib/), once for every app
mapfile -t jars < <(find "$server_lib" -maxdepth 1 -name '*.jar' 2>/dev/null | sort)
if [[ ${#jars[@]} -eq 0 ]]; then
  [[ "$dry_run" == 1 ]] || fail "no jars in $server_lib (mvn -pl webapp -am package builds them)"
  jars=("$server_lib/therapeia-engine.jar" "$server_lib/tokenizers.jar")
fi
asadmin_run add-library --type common "${jars[@]}"

# 2. JVM options; an option that exists already is left as it is
for option in "-Dtherapeia.native.library=$native_library" "-Dai.djl.offline=true" \
              "-Dhazelcast.socket.bind.any=false" "-Dhazelcast.phone.home.enabled=false"; do
  asadmin_run create-jvm-options --target "$config" "$option" \
    || echo "payara-server-setup: JVM option $option kept as it was" >&2
done
asadmin_run create-system-properties --target "$config" "model.path=$model_path:device=$device"

# 3. the Data Grid: TCP/IP discovery among the listed hosts only
# --startport is the domain's; the instances of CONFIG take theirs from the configuration's own
# start port (by default ${HZ_LISTENER_PORT}, 5900), so CLUSTER_PORT goes there too (the
# integration tests found two instances on 5900 and 5901 while their member list said otherwise)
hz_args=(--target "$config" --enabled=true --dynamic=false --clustername="$cluster_name"
         --clustermode=tcpip --tcpipmembers="$members" --interfaces="$interface"
         --startport="$cluster_port" --configspecificdatagridstartport="$cluster_port")
if [[ -n "${HAZELCAST_XML:-}" ]]; then
  # concrete values instead of the ${...} placeholders: asadmin parses the file on the DAS,
  # where the nodes' system properties are not set
  rendered=$(sed -e "s|\${therapeia.cluster.name}|$cluster_name|" \
                 -e "s|\${therapeia.cluster.port}|$cluster_port|" \
                 -e "s|\${therapeia.cluster.members}|$members|" \
                 -e "s|\${therapeia.cluster.interface}|$interface|" \
                 -e "s|<backup-count>[0-9]*</backup-count>|<backup-count>$backup_count</backup-count>|" \
                 "$here/hazelcast-tcpip.xml")
  if [[ "$dry_run" == 1 ]]; then
    echo "# would write $HAZELCAST_XML:"
    echo "$rendered" | grep -E '<(cluster-name|port|interface|members|backup-count)>' | sed 's/^/#   /'
  else
    mkdir -p "$(dirname "$HAZELCAST_XML")"
    printf '%s\n' "$rendered" > "$HAZELCAST_XML"
  fi
  hz_args+=(--hazelcastconfigurationfile="$HAZELCAST_XML")
fi
asadmin_run set-hazelcast-configuration "${hz_args[@]}"

# 4. restart, so the libraries, JVM options and Data Grid settings take effect
if [[ "${RESTART:-1}" == 1 ]]; then
  if [[ "$target" == server ]]; then
    restart_args=()
    [[ -z "$domain_dir" ]] || restart_args+=(--domaindir "$domain_dir")
    [[ -z "$domain" ]] || restart_args+=("$domain")
    asadmin_run restart-domain "${restart_args[@]}"
  else
    asadmin_run restart-deployment-group "$target" \
      || asadmin_run restart-instance "$target"
  fi
fi

# 5. the WAR
asadmin_run deploy --target "$target" --contextroot / --name therapeia --force=true "$war"
