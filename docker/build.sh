#!/usr/bin/env bash
# build.sh — configure, build and install ecorisk for a package or image:
# a Release build with the tests off, installed into DESTDIR under PREFIX.
# With gcc it is profile-guided (docs/operations.md, "Building for throughput"):
# an instrumented build runs bench/pgo_train.sh, then the same tree is rebuilt
# with the profiles it wrote (PGO=0, or another compiler: one plain build).
# The Dockerfile's build stage runs exactly this; tests/integration/docker_scripts.sh
# runs it too (into a temp dir), so the image recipe is exercised on every CI run.
#   docker/build.sh SRC_DIR BUILD_DIR DESTDIR [PREFIX]     (PREFIX default /usr/local)
# Env: CC (default gcc), JOBS (default: number of CPUs), PGO (default 1).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: docker/build.sh SRC_DIR BUILD_DIR DESTDIR [PREFIX]" >&2
  exit 64
fi
src=$1 build=$2 dest=$3 prefix=${4:-/usr/local}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
cc=${CC:-gcc}
pgo=${PGO:-1}
case "$("$cc" --version 2>/dev/null | head -1)" in *clang*|"") pgo=0 ;; esac
configure() {
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_INSTALL_PREFIX="$prefix" -DECORISK_TESTS=OFF -DECORISK_WERROR=ON "$@" >/dev/null
}
if [ "$pgo" = 1 ]; then
  configure -DECORISK_PGO=generate -DECORISK_PGO_DIR="$build/pgo-profiles"
  rm -rf "$build/pgo-profiles"
  cmake --build "$build" -j "$jobs" --target ecorisk gen_declarations >/dev/null
  "$src/bench/pgo_train.sh" "$build"
  configure -DECORISK_PGO=use
  echo "profile-guided: $(find "$build/pgo-profiles" -name '*.gcda' | wc -l) profiles"
else
  configure -DECORISK_PGO=
fi
cmake --build "$build" -j "$jobs" >/dev/null
DESTDIR=$dest cmake --install "$build" --strip >/dev/null
echo "installed ecorisk into $dest$prefix"
