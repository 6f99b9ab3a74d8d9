#!/usr/bin/env bash
# run.sh — run every libFuzzer harness for a given time under ASan + UBSan and
# report executions per harness.
#   tests/fuzz/run.sh SECONDS [HARNESS...]      (default: every harness built)
# Env: ECORISK_FUZZ_BUILD  build tree (default build-asan; configured with clang
#                          -DECORISK_FUZZ=ON and built here when needed)
#      FUZZ_JOBS           harnesses run side by side (default 1)
#      FUZZ_MAX_LEN        largest input in bytes (default 16384)
#      FUZZ_TIMEOUT        seconds one input may take before it counts as a hang
#                          (default 25; wall clock, so a paused run reports one)
#      FUZZ_RUNS           stop each harness after this many executions (a campaign:
#                          SECONDS is then the upper bound of each harness's time)
# The harnesses' scratch files go to one directory (in /dev/shm when there is
# one) removed on exit, also when libFuzzer ends a harness without cleaning up.
# The working corpus lives in tests/fuzz/corpus-work/<harness>/ (not committed):
# seeded from tests/fuzz/seeds, tests/fuzz/regressions, tests/fixtures and the
# third-party test data in ../shared/data (copied at run time, never committed).
# A crash leaves its input in corpus-work/crashes/<harness>/; once fixed, copy
# it to tests/fuzz/regressions/<harness>/ so every ctest run replays it.
# Exit status: 0 when no harness crashed, 1 otherwise.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
secs=${1:?usage: tests/fuzz/run.sh SECONDS [HARNESS...]}
shift
build=${ECORISK_FUZZ_BUILD:-build-asan}
jobs=${FUZZ_JOBS:-1}
max_len=${FUZZ_MAX_LEN:-16384}
runs=${FUZZ_RUNS:-}
timeout=${FUZZ_TIMEOUT:-25}
shared=${ECORISK_SHARED_DATA:-$src/../shared/data}
work=$src/tests/fuzz/corpus-work

if [ ! -f "$build/fuzz-harnesses.txt" ] || ! grep -q '^ECORISK_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DECORISK_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j 2 >/dev/null
if [ $# -gt 0 ]; then harnesses=("$@"); else read -r -a harnesses < <(tr ';' ' ' <"$build/fuzz-harnesses.txt"); fi
[ ${#harnesses[@]} -gt 0 ] || { echo "no fuzz harness in $build" >&2; exit 1; }

# Seed corpus for one harness (idempotent; files named by content).
seed() {
    local h=$1 dir=$work/$h
    mkdir -p "$dir" "$work/crashes/$h"
    add() { [ -f "$1" ] && [ -s "$1" ] && cp -n "$1" "$dir/seed-$(sha1sum "$1" | cut -c1-16)${2:-}" || true; }
    addhead() { [ -f "$1" ] && head -c "$max_len" "$1" >"$dir/seed-$(basename "$1" | tr -c 'a-zA-Z0-9.\n-' _)" || true; }
    for f in "$src/tests/fuzz/seeds/$h"/* "$src/tests/fuzz/regressions/$h"/*; do add "$f"; done
    case $h in
    csv)
        for f in "$src"/tests/fixtures/*.csv "$src"/tests/fixtures/*/*.csv "$shared"/csv-spectrum/csvs/*.csv; do add "$f"; done
        for f in "$shared"/customs-declarations/df_syn_valid_eng.csv "$shared"/bad-inputs/*.csv \
                 "$shared"/countries/isocurrency.csv "$shared"/hs/sections.csv; do addhead "$f"; done ;;
    jsonl)
        for f in "$src"/tests/fixtures/*.jsonl "$src"/tests/fixtures/*/*.jsonl; do add "$f"; done
        # JSONTestSuite documents, one per line-sized input
        for f in "$shared"/jsontestsuite/test_parsing/*.json "$shared"/jsontestsuite/test_transform/*.json; do
            [ -f "$f" ] || continue   # shared data absent: the pattern stays unexpanded
            [ "$(stat -c %s "$f")" -le 4096 ] && add "$f" .json
        done ;;
    profile)
        for f in "$src"/profiles/*.json "$src"/tests/fixtures/profiles/*.json "$src"/tests/fixtures/*/profiles/*.json; do add "$f"; done ;;
    baseline)
        for f in "$src"/tests/fixtures/*baseline*.json "$src"/tests/fixtures/*/*baseline*.json; do add "$f"; done ;;
    baseline_bin)
        for f in "$src"/tests/fuzz/seeds/baseline_bin/*; do add "$f"; done ;;
    push)
        for f in "$src"/tests/fixtures/*batch*.json "$src"/tests/fixtures/*/*batch*.json; do add "$f"; done ;;
    esac
}

declare -A dict=([csv]=csv.dict [jsonl]=json.dict [profile]=json.dict [baseline]=json.dict [push]=json.dict)
run_one() {
    local h=$1 log=$work/$h.log
    local bin=$build/tests/fuzz/fuzz_$h
    [ -x "$bin" ] || { echo "$h: $bin not built" >"$log"; return 1; }
    local d=()
    [ -n "${dict[$h]:-}" ] && [ -f "$src/tests/fuzz/${dict[$h]}" ] && d=(-dict="$src/tests/fuzz/${dict[$h]}")
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$secs" ${runs:+-runs="$runs"} -max_len="$max_len" -timeout="$timeout" -rss_limit_mb=2560 \
               -print_final_stats=1 -artifact_prefix="$work/crashes/$h/" "${d[@]}" \
               "$work/$h" >"$log" 2>&1
}

mkdir -p "$work"
scratch_base=/dev/shm
[ -d "$scratch_base" ] && [ -w "$scratch_base" ] || scratch_base=${TMPDIR:-/tmp}
ECORISK_FUZZ_SCRATCH=$(mktemp -d "$scratch_base/ecorisk-fuzz.XXXXXX")
trap 'rm -rf "$ECORISK_FUZZ_SCRATCH"' EXIT
export ECORISK_FUZZ_SCRATCH
for h in "${harnesses[@]}"; do seed "$h"; done
pids=() names=()
status=0
for h in "${harnesses[@]}"; do
    run_one "$h" &
    pids+=($!) names+=("$h")
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
for p in "${pids[@]}"; do wait "$p" || true; done

printf '%-10s %12s %10s %8s %6s  %s\n' harness executions exec/s corpus cov result
total=0
for h in "${harnesses[@]}"; do
    log=$work/$h.log
    execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log" | tail -1)
    rate=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(find "$work/$h" -type f | wc -l)
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed|SUMMARY: ' "$log"; then
        result=CRASH status=1
        grep -E 'ERROR:|runtime error:|invariant failed|SUMMARY:|Test unit written' "$log" | head -5 | sed "s/^/  $h: /" >&2
    else
        result=ok
    fi
    [ -n "$execs" ] || { execs=0; result=${result/ok/NO-STATS}; status=1; }
    printf '%-10s %12s %10s %8s %6s  %s\n' "$h" "$execs" "${rate:-0}" "$corp" "${cov:-0}" "$result"
    total=$((total + execs))
done
echo "total executions: $total in ${secs}s per harness"
exit $status
