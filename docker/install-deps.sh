#!/usr/bin/env bash
# install-deps.sh — install the Debian packages ecorisk needs to build, test
# and run. The Dockerfile's stages run this same script, so the image and a
# developer machine or CI cannot drift. Installs only what is missing.
#   docker/install-deps.sh             build + runtime + test/CI packages (developers, CI)
#   docker/install-deps.sh --build     what compiling and installing needs (image build stage)
#   docker/install-deps.sh --runtime   runtime libraries only (final image)
#   docker/install-deps.sh --receiver  the CEN-style test receiver (python3 only)
#   docker/install-deps.sh --list MODE print the packages of MODE (all, build, runtime, receiver)
#   --clean (after any mode) empties apt's lists and cache afterwards (images)
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
build_pkgs=(build-essential cmake pkg-config libcurl4-openssl-dev libjson-c-dev libgsl-dev libutf8proc-dev
            libisal-dev libssl-dev libxgboost-dev ca-certificates)
# Tests and CI: Check for unit tests, clang for the sanitizer build and libFuzzer,
# valgrind for memcheck, python3 for the test receiver, groff to check man pages,
# time for peak-RSS measurements, openssl/curl for TLS fixtures, chromium to
# render the HTML report in the report test, faketime to run past the profiles'
# review dates, prometheus for promtool (checks metrics.prom), python3-distributed
# for the Dask scale-out test (tests/integration/scale_out_dask.sh), zlib for the
# unit tests' gzip fixtures.
test_pkgs=(check zlib1g-dev clang valgrind python3 curl openssl gzip gawk groff-base time chromium faketime prometheus
           python3-distributed)
runtime_pkgs=(libcurl4 libjson-c5 libgsl27 libutf8proc2 libisal2 libssl3 libxgboost0 ca-certificates)
receiver_pkgs=(python3-minimal openssl ca-certificates)

mode=all clean=0 list=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) mode=build ;;
    --runtime) mode=runtime ;;
    --receiver) mode=receiver ;;
    --all) mode=all ;;
    --list) list=1; mode=${2:-all}; shift || true ;;
    --clean) clean=1 ;;
    *) echo "install-deps.sh: unknown option '$1'" >&2; exit 64 ;;
  esac
  shift
done
case "$mode" in
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  build) pkgs=("${build_pkgs[@]}") ;;
  runtime) pkgs=("${runtime_pkgs[@]}") ;;
  receiver) pkgs=("${receiver_pkgs[@]}") ;;
  *) echo "install-deps.sh: unknown mode '$mode'" >&2; exit 64 ;;
esac
if [ "$list" = 1 ]; then printf '%s\n' "${pkgs[@]}"; exit 0; fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$clean" = 1 ]; then
  $SUDO apt-get clean
  $SUDO rm -rf /var/lib/apt/lists/*
fi
