#!/usr/bin/env bash
# run.sh — throughput of the nightly job: `ecorisk run` with all shipped packs
# and a baseline built from HISTORY rows (default 5,000,000) on a synthetic
# day of ROWS rows (default 1,000,000), with 1 and 2 threads, next to `wc -l`
# and `awk -F,` field splitting on the same file in the same run. Peak RSS of
# the run is reported, and that of loading the baseline alone (`explain` of a
# missing id on a one-row feed), so the run's own memory can be read off.
#   bench/run.sh [ROWS] [HISTORY]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-1000000}
hist_rows=${2:-5000000}
bench_build
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
day=$out/run-day-$rows.csv
hist=$out/run-history-$hist_rows.csv
baseline=$out/run-baseline-$hist_rows.json
[ -s "$day" ] || "$build/gen_declarations" -n "$rows" --seed 21 --start 2026-11-24 --anomaly-rate 0.002 -o "$day"
if [ ! -s "$baseline" ]; then
  [ -s "$hist" ] || "$build/gen_declarations" -n "$hist_rows" --seed 20 --start 2025-11-24 --days 365 -o "$hist"
  "$build/ecorisk" baseline build --feed "$hist" --out "$baseline" -q
fi
bytes=$(stat -c %s "$day")
echo "day: $day  rows: $rows  bytes: $bytes  baseline: $baseline ($(stat -c %s "$baseline") bytes, $hist_rows history rows)"
echo "cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
bench_header
measure "wc -l"                          wc -l "$day"
measure "awk -F, (field split)"          awk -F, '{ n += NF } END { print n }' "$day"
head -2 "$day" > "$out/one-row.csv"
measure "baseline + packs load only"     sh -c "'$build/ecorisk' explain --feed '$out/one-row.csv' --baseline '$baseline' --id none -q || true"
for t in 1 2; do
  measure "ecorisk run, $t thread(s)"    "$build/ecorisk" run --feed "$day" --baseline "$baseline" --threads "$t" --out "$out/run-out-$t" -q
done
measure "ecorisk run, 2 threads, no baseline" "$build/ecorisk" run --feed "$day" --threads 2 --out "$out/run-out-nb" -q
cmp -s "$out/run-out-1/alerts.jsonl" "$out/run-out-2/alerts.jsonl" && echo "alerts identical with 1 and 2 threads ($(wc -l < "$out/run-out-2/alerts.jsonl") alerts)"
for t in 1 2; do
  # the last run's own split: time until scoring could start (packs + baseline,
  # overlapped with reading the first batches) and the rest
  sed -n 's/.*"timings": *{\([^}]*\)}.*/\1/p' "$out/run-out-$t/summary.json" | tr -d '"' | sed "s/^/run, $t thread(s), summary timings: /"
done
