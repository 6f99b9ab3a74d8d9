#!/usr/bin/env bash
# run_alloc_fail.sh — every allocation of `ecorisk run` made to fail, one at a
# time and from some point on (tests/fault/failalloc.c, LD_PRELOAD), as
# curl's and SQLite's malloc-failure loops do: on the sample day with a run
# config keeping capacity, random controls and exploration (top-up candidates
# packed, picked and formatted), then on a generated day with a learned model,
# with that config and with random controls only.
# Each run must either succeed with outputs byte-identical to the run without
# failures (summary.json up to its timings and manifest), or exit 71
# (EX_OSERR, out of memory) with "out of memory" in its message and no output
# directory: never a crash, a hang, an empty message, or an alert that lost a
# field. Not in sanitizer builds (the injector and ASan's allocator would fight).
# Env: ECORISK, ECORISK_SRC, ECORISK_BUILD; ALLOC_RUNS (default 1500) bounds the
# single-failure runs per case, ALLOC_ALL_RUNS (default 300) the fail-from-then-on ones.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

if grep -q '^ECORISK_SANITIZE:BOOL=ON' "$ECORISK_BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "run_alloc_fail: skipped in the sanitizer build"; exit 77
fi
shim=$ECORISK_BUILD/tests/libfailalloc.so
[ -f "$shim" ] || fail "$shim not built"

strip_summary() { sed 's/"timings": *{[^}]*}//; /"name": "[a-z.]*", "bytes"/d' "$1"; }

# inject NAME CMD... (CMD writes into $T/NAME/out, named by the caller as "@OUT@")
inject() {
    local name=$1
    shift
    local dir=$T/$name args=() a
    mkdir -p "$dir"
    for a in "$@"; do args+=("${a//@OUT@/$dir/out}"); done
    # the reference, and how many allocations the executable makes
    LD_PRELOAD=$shim ECORISK_FAIL_ALLOC=0 ECORISK_FAIL_ALLOC_COUNT=$dir/count "${args[@]}" >/dev/null 2>"$dir/err" ||
        { cat "$dir/err"; fail "$name: the run without failures exited $?"; }
    mv "$dir/out" "$dir/ref"
    local count ok=0 oom=0 mode n step runs
    count=$(cat "$dir/count")
    [ "$count" -gt 100 ] || fail "$name: only $count allocations counted (is the injector loaded?)"
    for mode in one all; do
        if [ $mode = one ]; then runs=${ALLOC_RUNS:-1500}; else runs=${ALLOC_ALL_RUNS:-300}; fi
        step=$(((count + runs - 1) / runs))
        for ((n = 1; n <= count; n += step)); do
            rm -rf "$dir/out"
            local rc=0
            LD_PRELOAD=$shim ECORISK_FAIL_ALLOC=$n ECORISK_FAIL_ALLOC_ALL=$([ $mode = all ] && echo 1 || echo 0) \
                timeout 60 "${args[@]}" >/dev/null 2>"$dir/err" || rc=$?
            case $rc in
            0)
                ok=$((ok + 1))
                for f in alerts.jsonl quarantine.jsonl; do
                    cmp -s "$dir/ref/$f" "$dir/out/$f" || fail "$name: allocation $n ($mode) failed, exit 0, $f differs"
                done
                cmp -s <(strip_summary "$dir/ref/summary.json") <(strip_summary "$dir/out/summary.json") ||
                    fail "$name: allocation $n ($mode) failed, exit 0, summary.json differs"
                ;;
            71)
                oom=$((oom + 1))
                grep -q "out of memory" "$dir/err" ||
                    fail "$name: allocation $n ($mode): exit 71 without 'out of memory': $(head -c 300 "$dir/err")"
                [ ! -e "$dir/out" ] || fail "$name: allocation $n ($mode): exit 71 left $dir/out behind"
                ;;
            *)
                fail "$name: allocation $n ($mode) failed: exit $rc: $(head -c 300 "$dir/err")"
                ;;
            esac
        done
    done
    echo "$name: $count allocations; $ok runs succeeded with identical outputs, $oom stopped cleanly (out of memory)"
}

S=$ECORISK_SRC/feeds/samples
echo '{"rules": [{"office": "*", "flow": "*", "red": 0.03, "yellow": 0.06, "min_random_rate": 0.05, "explore_rate": 0.02}]}' \
    > "$T/topup.json"
inject sample "$ECORISK" run --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --config "$T/topup.json" \
    --threads 2 --out @OUT@ -q

G=("$ECORISK_BUILD/gen_declarations" --anomaly-rate 0 --illicit-rate 0.05)
"${G[@]}" -n 6000 --seed 50 --start 2026-09-01 --days 20 -o "$T/hist.csv"
"${G[@]}" -n 4000 --seed 51 --start 2026-10-05 -o "$T/train.csv"
"${G[@]}" -n 1500 --seed 52 --start 2026-10-08 -o "$T/day.csv"
"$ECORISK" baseline build --feed "$T/hist.csv" --out "$T/bl.json" -q
"$ECORISK" learn --feed "$T/train.csv" --label-field illicit --baseline "$T/bl.json" --out "$T/model.json" \
    --rounds 20 --threads 1 > /dev/null
inject model "$ECORISK" run --feed "$T/day.csv" --baseline "$T/bl.json" --model "$T/model.json" \
    --config "$T/topup.json" --threads 2 --out @OUT@ -q
# random controls only: a candidate's probability is computed at the end, for the picked ones
echo '{"rules": [{"office": "*", "flow": "*", "red": 0.03, "min_random_rate": 0.05}]}' > "$T/controls.json"
ALLOC_RUNS=500 ALLOC_ALL_RUNS=100 inject model-controls "$ECORISK" run --feed "$T/day.csv" --baseline "$T/bl.json" \
    --model "$T/model.json" --config "$T/controls.json" --threads 2 --out @OUT@ -q
