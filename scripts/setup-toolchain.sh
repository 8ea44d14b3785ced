#!/usr/bin/env bash
# Installs what the build needs and a fresh machine lacks, and reuses it when already there:
#   - a Python virtual environment with torch (LibTorch for the C++ core) and transformers
#     (reference outputs), in a cache folder outside the checkout;
#   - Debian packages for the native build: nlohmann-json headers, GoogleTest, cmake, ninja.
# Prints nothing but progress; safe to run again. THERAPEIA_CACHE moves the cache folder.
set -euo pipefail

TORCH_VERSION=2.11.0
TRANSFORMERS_VERSION=5.17.0
CACHE_DIR="${THERAPEIA_CACHE:-$HOME/.cache/therapeia}"
VENV="$CACHE_DIR/venv-torch$TORCH_VERSION"

installed_version() {
  "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true
}

if [[ "$(installed_version torch)" != "$TORCH_VERSION" || "$(installed_version transformers)" != "$TRANSFORMERS_VERSION" ]]; then
  echo "setup-toolchain: installing torch==$TORCH_VERSION transformers==$TRANSFORMERS_VERSION into $VENV"
  mkdir -p "$CACHE_DIR"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "torch==$TORCH_VERSION" "transformers==$TRANSFORMERS_VERSION" "safetensors==0.8.0" "numpy==2.4.6"
fi

# Debian packages the native build needs; installed only when missing.
missing=()
[[ -f /usr/include/nlohmann/json.hpp ]] || missing+=(nlohmann-json3-dev)
dpkg -s libgtest-dev >/dev/null 2>&1 || missing+=(libgtest-dev)
command -v cmake >/dev/null || missing+=(cmake)
command -v ninja >/dev/null || missing+=(ninja-build)
command -v g++ >/dev/null || missing+=(g++)
if (( ${#missing[@]} )); then
  echo "setup-toolchain: installing ${missing[*]}"
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || {
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
