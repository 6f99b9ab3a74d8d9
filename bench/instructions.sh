#!/usr/bin/env bash
# instructions.sh — what `ecorisk run` costs in instructions, counted by
# callgrind: the same binary on the same input gives the same count to within
# a few hundred instructions, where wall and CPU time on a shared machine
# move by 5 % between invocations. For weighing a change against its parent
# (run it on both builds) before timing it with bench/run.sh.
# Runs the first ROWS rows (default 100,000) of bench/run.sh's day with its
# binary baseline and the shipped packs, on one thread, and prints the total
# and the functions above 1 %, then the total per row with the fixed costs of
# a one-row run taken off.
#   bench/instructions.sh [ROWS]            ECORISK_BUILD=build; needs valgrind
#                                           and bench/run.sh's day and baseline
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-100000}
bench_build
out=${BENCH_OUT:-bench/out}
day=$out/run-day-1000000.csv
bin=$out/run-baseline-5000000.bin
if [ ! -s "$day" ] || [ ! -s "$bin" ]; then
  echo "instructions.sh: run bench/run.sh first (it makes $day and $bin)" >&2
  exit 66
fi
command -v valgrind > /dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 69; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n $((rows + 1)) "$day" > "$tmp/day.csv"
head -n 2 "$day" > "$tmp/one.csv"
count() {   # feed, callgrind output: prints the total
  valgrind --tool=callgrind --callgrind-out-file="$2" "$build/ecorisk" run --feed "$1" --baseline "$bin" \
    --threads 1 --out "$tmp/out" -q 2>&1 | awk '/refs:/ { gsub(",", "", $NF); print $NF }'
  rm -rf "$tmp/out"
}
total=$(count "$tmp/day.csv" "$tmp/cg.out")
fixed=$(count "$tmp/one.csv" "$tmp/cg1.out")
echo "ecorisk run, $rows rows, 1 thread ($build): $total instructions"
callgrind_annotate --auto=no "$tmp/cg.out" 2>/dev/null | awk '
    /^-+$/ { rule++ } rule >= 4 && /\[/ && !/PROGRAM TOTALS/ {
        line = $0; sub(/^ +/, "", line); split(line, f, " ");
        pct = line; sub(/^[0-9,]+ +\( */, "", pct); sub(/%.*/, "", pct);
        if (pct + 0 < 1.0) next;
        fn = line; sub(/^[0-9,]+ +\( *[0-9.]+%\) +/, "", fn); sub(/ \[.*/, "", fn); n = split(fn, a, "/");
        printf "  %14s %6s%%  %s\n", f[1], pct, a[n] }' | head -30
awk -v t="$total" -v f="$fixed" -v r="$rows" 'BEGIN {
    printf "one-row run: %d instructions; per row besides it: %.0f\n", f, (t - f) / (r - 1) }'
