#!/usr/bin/env bash
# run.sh — the whole test suite from a clean checkout; .ci/run calls exactly this.
#   1. installs missing packages (docker/install-deps.sh, the same list the image uses)
#   2. gcc build with -Werror, every test (unit, integration, fault, fuzz replays)  → build/
#   3. clang build with AddressSanitizer + UBSan (+ libFuzzer instrumentation),
#      every test again                                                              → build-asan/
#   4. each libFuzzer harness for FUZZ_SECONDS (default 30) under ASan + UBSan
#   5. valgrind memcheck on the end-to-end tests (label integration) of the gcc
#      build: zero errors and zero definite leaks, through ECORISK_WRAP
# Prints the time of each stage and the total; budget: 30 minutes on 2 cores.
#   tests/run.sh            everything
#   tests/run.sh --quick    stage 1-2 only
# ECORISK_WRAP: every end-to-end script runs the CLI as `$ECORISK_WRAP $ECORISK ...`
# (unset: directly). Stage 5 sets it to valgrind; set it yourself to run any
# integration test under another tool (see docs/testing.md).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
cd "$(dirname "$0")/.."
# The system tools first: the tests start python3 hundreds of times, and a
# version-manager shim in front of it costs seconds per call.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
docker/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -le 2 ] || jobs=2
fuzz_secs=${FUZZ_SECONDS:-30}
t0=$(date +%s)
stage_start=$t0
times=()
stage() {   # stage NAME: close the previous stage's timer, open this one
    local now
    now=$(date +%s)
    [ -z "${stage_name:-}" ] || times+=("$(printf '%-34s %5ds' "$stage_name" $((now - stage_start)))")
    stage_name=$1 stage_start=$now
    [ "$1" = end ] || echo "== $1"
}

stage "gcc build + tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DECORISK_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${1:-}" != "--quick" ]; then
    stage "clang + ASan + UBSan build + tests"
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
          -DECORISK_SANITIZE=ON -DECORISK_FUZZ=ON -DECORISK_WERROR=ON >/dev/null
    cmake --build build-asan -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -j "$jobs"

    stage "fuzz ${fuzz_secs}s per harness"
    ECORISK_FUZZ_BUILD=build-asan FUZZ_JOBS=$jobs tests/fuzz/run.sh "$fuzz_secs"

    stage "valgrind memcheck, end-to-end tests"
    # The end-to-end scripts that run the CLI through $ECORISK_WRAP, themselves or
    # by sourcing tests/wrap.sh (the others would only repeat the plain run, or
    # measure memory or timing that valgrind distorts: hostile_limits, the kill loop
    # run_kill). --errors-for-leak-kinds=definite: a
    # definite leak fails like a memory error (exit 99).
    wrapped=$(grep -l -e 'ECORISK_WRAP:-' -e 'tests/wrap.sh' tests/integration/*.sh tests/fault/*.sh 2>/dev/null \
              | grep -v -e hostile_limits -e run_kill -e run_push_kill | xargs -n1 basename | sed 's/\.sh$//' | paste -sd'|')
    echo "under valgrind: ${wrapped//|/, }"
    ECORISK_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
      ctest --test-dir build --output-on-failure -j "$jobs" -R "^(integration|fault)/($wrapped)\$"
fi
stage end
echo "== stage times"
printf '%s\n' "${times[@]}"
echo "total: $(( $(date +%s) - t0 ))s"
