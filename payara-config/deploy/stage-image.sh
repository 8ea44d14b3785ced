#!/usr/bin/env bash
# Gathers what the container image needs into one folder, the Docker build context, so that the
# build sends only those files (not the checkout, not the 5 GB torch environment):
#
#   <out>/therapeia/therapeia.war          webapp/target/therapeia.war
#   <out>/therapeia/server-lib/*.jar       webapp/target/server-lib/ (engine binding, DJL tokenizers
#                                          and their dependencies: Payara Micro's --addlibs)
#   <out>/therapeia/lib/*.so               libtherapeia_jni.so, libtherapeia_core.so (native build)
#   <out>/therapeia/python/torch/lib/      LibTorch from the torch wheel (without its Python binding)
#   <out>/therapeia/python/nvidia/*/lib/   the CUDA, cuDNN, NCCL... libraries the wheel depends on
#   <out>/therapeia/payara-micro.jar       Payara Micro from the local Maven repository
#   <out>/therapeia/cluster/               start-micro-node.sh (the entrypoint), hazelcast-*.xml
#
# The torch and nvidia folders keep the wheel's layout: LibTorch finds the CUDA libraries through
# its RPATH ($ORIGIN/../../nvidia/...). Files are hard-linked where the file system allows (fast,
# no extra space), else copied. Then:
#   docker build -f payara-config/deploy/Dockerfile -t therapeia:0.1.0 payara-config/deploy/target/image
#
# Usage: stage-image.sh [--check] [--out DIR]
#   --check   only verify that every input exists and print what would be staged
#   --out     the build context (default payara-config/deploy/target/image)
# Inputs (environment variables, defaults in brackets):
#   THERAPEIA_CACHE   [~/.cache/therapeia]
#   TORCH_VENV        [$THERAPEIA_CACHE/venv-torch2.11.0] the virtual environment with torch
#   NATIVE_DIR        [native/target/cmake] where the native libraries were built; for a CUDA
#                     image, libraries built on a machine with the CUDA toolkit
#   WEBAPP_TARGET     [webapp/target]
#   PAYARA_VERSION    [6.2025.10]
#   PAYARA_MICRO_JAR  [~/.m2/.../payara-micro-$PAYARA_VERSION.jar]; fetched with Maven if missing
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

check_only=0
out="$here/target/image"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) check_only=1 ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    -h|--help) sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stage-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

cache=${THERAPEIA_CACHE:-$HOME/.cache/therapeia}
venv=${TORCH_VENV:-$cache/venv-torch2.11.0}
native_dir=${NATIVE_DIR:-$repo/native/target/cmake}
webapp_target=${WEBAPP_TARGET:-$repo/webapp/target}
payara_version=${PAYARA_VERSION:-6.2025.10}
payara_jar=${PAYARA_MICRO_JAR:-$HOME/.m2/repository/fish/payara/extras/payara-micro/$payara_version/payara-micro-$payara_version.jar}

missing=0
need() { # path what-builds-it
  if [[ ! -e "$1" ]]; then
    echo "stage-image: missing $1 ($2)" >&2
    missing=1
  fi
}

site_packages=$(compgen -G "$venv/lib/python3*/site-packages" | head -n 1 || true)
need "$webapp_target/therapeia.war" "mvn -pl webapp -am package"
need "$webapp_target/server-lib" "mvn -pl webapp -am package"
need "$native_dir/libtherapeia_jni.so" "the native build: mvn -pl native package, or cmake on a CUDA machine"
need "$native_dir/libtherapeia_core.so" "the native build"
need "${site_packages:-$venv/lib/python3.x/site-packages}/torch/lib/libtorch_cpu.so" "scripts/setup-toolchain.sh"
need "$repo/payara-config/cluster/start-micro-node.sh" "the checkout"
if [[ ! -e "$payara_jar" ]]; then
  if [[ "$check_only" == 1 ]]; then
    echo "stage-image: $payara_jar not in the local Maven repository; staging will fetch it" >&2
  else
    mvn -q dependency:get -Dartifact="fish.payara.extras:payara-micro:$payara_version" -Dtransitive=false >&2 || true
    need "$payara_jar" "Payara Micro $payara_version from Maven Central"
  fi
fi
[[ "$missing" == 0 ]] || exit 1

torch_lib="$site_packages/torch/lib"
# the core links LibTorch's CUDA library only when it was built against a CUDA toolkit
if readelf -d "$native_dir/libtherapeia_core.so" "$native_dir/libtherapeia_jni.so" 2>/dev/null \
    | grep -q 'NEEDED.*\(torch_cuda\|c10_cuda\)'; then
  gpu="yes"
else
  gpu="no: built without a CUDA toolkit, the image runs with DEVICE=cpu only"
fi

if [[ "$check_only" == 1 ]]; then
  echo "stage-image: inputs present"
  echo "  war        $webapp_target/therapeia.war"
  echo "  server-lib $(find "$webapp_target/server-lib" -name '*.jar' | wc -l) jars"
  echo "  native     $native_dir (GPU: $gpu)"
  echo "  libtorch   $torch_lib ($(du -sh "$torch_lib" | cut -f1))"
  if [[ -d "$site_packages/nvidia" ]]; then
    echo "  cuda libs  $site_packages/nvidia ($(du -sh "$site_packages/nvidia" | cut -f1))"
  fi
  echo "  payara     $payara_jar"
  echo "  into       $out"
  exit 0
fi

place() { # source-file destination-dir: hard link if possible, else copy
  mkdir -p "$2"
  ln -f "$1" "$2/" 2>/dev/null || cp -f "$1" "$2/"
}

rm -rf "$out"
app="$out/therapeia"
mkdir -p "$app/lib" "$app/server-lib" "$app/cluster" "$app/python/torch/lib" "$app/python/nvidia"

place "$webapp_target/therapeia.war" "$app"
for jar in "$webapp_target"/server-lib/*.jar; do
  place "$jar" "$app/server-lib"
done
place "$native_dir/libtherapeia_jni.so" "$app/lib"
place "$native_dir/libtherapeia_core.so" "$app/lib"
cp -f "$payara_jar" "$app/payara-micro.jar"
for f in "$repo"/payara-config/cluster/start-micro-node.sh "$repo"/payara-config/cluster/hazelcast-*.xml; do
  place "$f" "$app/cluster"
done
chmod 0755 "$app/cluster/start-micro-node.sh"

# LibTorch without what serves Python only (libtorch_python needs libpython; libshm is for
# torch.multiprocessing)
while IFS= read -r -d '' so; do
  case "$(basename "$so")" in
    libtorch_python.so|libshm.so) ;;
    *) place "$so" "$app/python/torch/lib" ;;
  esac
done < <(find "$torch_lib" -maxdepth 1 \( -type f -o -type l \) -name '*.so*' -print0)

# the CUDA libraries of the wheel's nvidia-* dependencies, shared objects only
if [[ -d "$site_packages/nvidia" ]]; then
  while IFS= read -r -d '' so; do
    rel=${so#"$site_packages/nvidia/"}
    place "$so" "$app/python/nvidia/$(dirname "$rel")"
  done < <(find "$site_packages/nvidia" -path '*/lib/*' \( -type f -o -type l \) -name '*.so*' -print0)
fi

echo "stage-image: staged into $out ($(du -sh "$out" | cut -f1)); GPU: $gpu"
echo "  docker build -f $here/Dockerfile -t therapeia:0.1.0 $out"
