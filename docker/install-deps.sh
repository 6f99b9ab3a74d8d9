#!/usr/bin/env bash
# install-deps.sh — install the Debian packages ecorisk needs to build, test
# and run. The Dockerfile's build stage runs this same script, so the image and
# a developer machine cannot drift. Installs only what is missing.
#   docker/install-deps.sh            build + runtime + test packages
#   docker/install-deps.sh --runtime  runtime libraries only (final image)
set -euo pipefail
build_pkgs=(build-essential cmake pkg-config clang libcurl4-openssl-dev libjson-c-dev
            libgsl-dev zlib1g-dev check python3 curl ca-certificates openssl valgrind gzip gawk)
runtime_pkgs=(libcurl4 libjson-c5 libgsl27 zlib1g ca-certificates)
if [ "${1:-}" = "--runtime" ]; then pkgs=("${runtime_pkgs[@]}"); else pkgs=("${build_pkgs[@]}"); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
