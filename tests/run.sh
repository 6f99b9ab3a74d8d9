#!/usr/bin/env bash
# run.sh — the whole test suite from a clean checkout: installs missing
# packages, builds with gcc (-Werror) and runs every test (unit, integration,
# fault), then rebuilds with clang + AddressSanitizer + UBSan and runs the
# suite again. .ci/run calls exactly this. Build trees: build/ and build-asan/.
#   tests/run.sh           everything
#   tests/run.sh --quick   gcc build only
set -euo pipefail
cd "$(dirname "$0")/.."
docker/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== gcc build + tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DECORISK_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${1:-}" = "--quick" ]; then exit 0; fi

echo "== clang + ASan + UBSan build + tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DECORISK_SANITIZE=ON -DECORISK_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -E '^bench/'
