#!/usr/bin/env bash
# run.sh — throughput of the nightly job: `ecorisk run` with all shipped packs
# and a baseline built from HISTORY rows (default 5,000,000) on a synthetic
# day of ROWS rows (default 1,000,000), in one invocation:
#   - `wc -l` and `gawk -F,` field splitting on the same file (the reference
#     for what this machine does right now: timings are noisy on a shared one),
#   - loading the baseline alone in its JSON and binary forms,
#   - the run with 1 and 2 threads on the CSV and on the gzipped day, with the
#     binary baseline, and with the JSON baseline at 2 threads,
#   - the 2-thread CSV run with a run config keeping capacity, 1 % random
#     controls and 0.5 % exploration (every in-scope declaration that does not
#     alert is then a top-up candidate),
#   - the same with a learned model (MODEL=FILE, else a small one is trained
#     here once on a labelled 50,000-row day against the same baseline),
#   - peak RSS of each, and whether every output is byte-identical to the
#     1-thread CSV run (the gzip runs differ only in run and alert ids, which
#     hash the feed name: compared without them),
#   - then the ratios that mean something on a shared machine: each run's
#     rows/s against `gawk -F,` and `wc -l` timed in the same invocation, the
#     speed-up from 1 to 2 threads, and peak RSS besides the binary baseline.
#   bench/run.sh [ROWS] [HISTORY]          RUNS=3 best of (MODEL_RUNS=1 for the model runs);
#                                          ECORISK_BUILD=build
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-1000000}
hist_rows=${2:-5000000}
bench_build
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
E=$build/ecorisk
day=$out/run-day-$rows.csv
hist=$out/run-history-$hist_rows.csv
baseline=$out/run-baseline-$hist_rows.json
bin=$out/run-baseline-$hist_rows.bin
[ -s "$day" ] || "$build/gen_declarations" -n "$rows" --seed 21 --start 2026-11-24 --anomaly-rate 0.002 -o "$day"
[ -s "$day.gz" ] && [ "$day.gz" -nt "$day" ] || gzip -1 -c "$day" > "$day.gz"
if [ ! -s "$baseline" ] || ! "$E" baseline show --baseline "$baseline" --hs 01 > /dev/null 2>&1; then
  [ -s "$hist" ] || "$build/gen_declarations" -n "$hist_rows" --seed 20 --start 2025-11-24 --days 365 -o "$hist"
  "$E" baseline build --feed "$hist" --out "$baseline" -q
fi
[ -s "$bin" ] && [ "$bin" -nt "$baseline" ] && "$E" baseline show --baseline "$bin" --hs 01 > /dev/null 2>&1 ||
  "$E" baseline convert -q "$baseline" --out "$bin"
bytes=$(stat -c %s "$day")
echo "day: $day  rows: $rows  bytes: $bytes (gzip: $(stat -c %s "$day.gz"))"
echo "baseline: $hist_rows history rows; JSON $(stat -c %s "$baseline") bytes, binary $(stat -c %s "$bin") bytes"
echo "cpu: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (before)"
bench_header
declare -A wall rss
measure "wc -l"                          wc -l "$day"
wall[wc]=$last_wall
measure "gawk -F, (field split)"         gawk -F, '{ n += NF } END { print n }' "$day"
wall[gawk]=$last_wall
head -2 "$day" > "$out/one-row.csv"
measure "load only: JSON baseline"       sh -c "'$E' explain --feed '$out/one-row.csv' --baseline '$baseline' --id none -q 2>/dev/null || true"
measure "load only: binary baseline"     sh -c "'$E' explain --feed '$out/one-row.csv' --baseline '$bin' --id none -q 2>/dev/null || true"
rss[bl]=$last_rss
model=${MODEL:-$out/run-model-$hist_rows.json}
# retrained when missing, older than the baseline, or older than any pack or list (a model is bound to its packs)
if [ -z "${MODEL:-}" ] && { [ ! -s "$model" ] || [ "$model" -ot "$bin" ] || [ -n "$(find profiles -newer "$model" -print -quit)" ]; }; then
  train=$out/run-train-50000.csv
  [ -s "$train" ] || "$build/gen_declarations" -n 50000 --anomaly-rate 0 --illicit-rate 0.0051 --seed 29 \
    --start 2026-11-20 -o "$train"
  "$E" learn --feed "$train" --label-field illicit --baseline "$bin" --out "$model" > /dev/null
fi
model_args=(--model "$model")
# a nightly config with capacity, 1 % random controls and 0.5 % exploration (docs/operations.md):
# every in-scope declaration that does not alert is then a top-up candidate
topup=$out/run-config-topup.json
echo '{"rules": [{"office": "*", "flow": "*", "red": 0.02, "yellow": 0.05, "min_random_rate": 0.01, "explore_rate": 0.005}]}' > "$topup"
for m in none model; do
  extra=(); [ $m = model ] && extra=("${model_args[@]}")
  runs=${RUNS:-3}; [ $m = model ] && runs=${MODEL_RUNS:-1}
  [ "$runs" -gt 0 ] || continue   # MODEL_RUNS=0: no model rows
  for t in 1 2; do
    measure "run csv, $t thr, bin bl, $m"       "$E" run --feed "$day" --baseline "$bin" --threads "$t" --out "$out/run-$m-csv-$t" -q "${extra[@]}"
    wall[$m-csv-$t]=$last_wall rss[$m-csv-$t]=$last_rss
    measure "run gzip, $t thr, bin bl, $m"      "$E" run --feed "$day.gz" --baseline "$bin" --threads "$t" --out "$out/run-$m-gz-$t" -q "${extra[@]}"
    wall[$m-gz-$t]=$last_wall rss[$m-gz-$t]=$last_rss
  done
  measure "run csv, 2 thr, JSON bl, $m"         "$E" run --feed "$day" --baseline "$baseline" --threads 2 --out "$out/run-$m-json-2" -q "${extra[@]}"
  wall[$m-json-2]=$last_wall rss[$m-json-2]=$last_rss
  measure "run csv, 2 thr, bin bl, $m, top-up"  "$E" run --feed "$day" --baseline "$bin" --threads 2 --config "$topup" --out "$out/run-$m-topup-2" -q "${extra[@]}"
  wall[$m-topup-2]=$last_wall rss[$m-topup-2]=$last_rss
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) (after)"
# summary.json also differs in its manifest (metrics.prom holds the run's time; alerts.jsonl the ids)
strip_ids() { sed 's/"alert_id":"[^"]*","run_id":"[^"]*"//; s/"run_id": *"[^"]*"//; s/"feeds": *\[[^]]*\]//; s/"timings": *{[^}]*}//; /^ *{"name": "[a-z.]*", "bytes"/d' "$1"; }
for m in none model; do
  ref=$out/run-$m-csv-1
  [ -n "${wall[$m-csv-1]:-}" ] || continue   # measured in this invocation
  for o in "$out/run-$m-csv-2" "$out/run-$m-json-2" "$out/run-$m-gz-1" "$out/run-$m-gz-2"; do
    for f in alerts.jsonl quarantine.jsonl summary.json; do
      if [ "${o#*-gz-}" != "$o" ] || [ $f = summary.json ]; then
        cmp -s <(strip_ids "$ref/$f") <(strip_ids "$o/$f") || echo "DIFFERS: $o/$f"
      else
        cmp -s "$ref/$f" "$o/$f" || echo "DIFFERS: $o/$f"
      fi
    done
  done
  echo "outputs ($m): compared with the 1-thread CSV run ($(wc -l < "$ref/alerts.jsonl") alerts)"
done
for t in 1 2; do
  sed -n 's/.*"timings": *{\([^}]*\)}.*/\1/p' "$out/run-none-csv-$t/summary.json" | tr -d '"' |
    sed "s/^/run csv, $t thread(s), binary baseline, summary timings: /"
done
echo
echo "ratios (same invocation; rows/s over gawk -F, and wc -l rows/s; peak RSS besides the binary baseline's $(awk -v m="${rss[bl]}" 'BEGIN { printf "%.0f", m / 1024 }') MB):"
for k in none-csv-1 none-csv-2 none-gz-1 none-gz-2 none-json-2 none-topup-2 model-csv-1 model-csv-2 model-gz-1 model-gz-2 model-json-2 model-topup-2; do
  [ -n "${wall[$k]:-}" ] || continue
  awk -v k="$k" -v w="${wall[$k]}" -v g="${wall[gawk]}" -v c="${wall[wc]}" -v n="$rows" -v r="${rss[$k]}" -v b="${rss[bl]}" 'BEGIN {
      if (w <= 0) w = 0.001; if (c <= 0) c = 0.001
      printf "  %-13s %10.0f rows/s  %6.2fx gawk  %6.3fx wc -l  peak RSS %6.1f MB (%6.1f MB besides the baseline)\n",
             k, n / w, g / w, c / w, r / 1024, (r - b) / 1024 }'
done
for m in none model; do
  for x in csv gz; do
    [ -n "${wall[$m-$x-2]:-}" ] || continue
    awk -v a="${wall[$m-$x-1]}" -v b="${wall[$m-$x-2]}" -v k="$m $x" 'BEGIN { if (b <= 0) b = 0.001; printf "  1 -> 2 threads, %-10s %.2fx\n", k, a / b }'
  done
done
