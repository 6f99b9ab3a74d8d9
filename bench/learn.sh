#!/usr/bin/env bash
# learn.sh — the learned model on the labelled detection benchmark
# (docs/analysts.md, "The outcome loop"): a baseline from the 60-day history
# of bench/detect.sh, a model learned on one earlier labelled day, then
# backtest --model on a later day, reporting the model's average precision and
# precision / recall at 1, 2, 5 and 10 % next to the shipped packs' risk
# ranking of the same run; then run with and without the model on that day.
#   bench/learn.sh [DAY_ROWS] [TRAIN_ROWS] [HISTORY_ROWS]   (defaults 1000000, 200000, 3000000)
#   SMALL=1 bench/learn.sh                                  (50000, 50000, 300000)
#   TRAIN_DAYS=4 bench/learn.sh 1000000 1000000 300000      (learn on 1M labelled rows over 4 days)
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
set -euo pipefail
build=${ECORISK_BUILD:-build}
if [ "${SMALL:-0}" = 1 ]; then
  rows=${1:-50000}; train_rows=${2:-50000}; hist_rows=${3:-300000}
else
  rows=${1:-1000000}; train_rows=${2:-200000}; hist_rows=${3:-3000000}
fi
rate=${ILLICIT_RATE:-0.0051}
ecorisk=${ECORISK:-$build/ecorisk}
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
day=$out/detect-day-$rows-$rate.csv
train_days=${TRAIN_DAYS:-1}
train=$out/learn-train-$train_rows-$train_days-$rate.csv
hist=$out/detect-history-$hist_rows-$rate.csv
baseline=$out/detect-baseline-$hist_rows-$rate.json
model=$out/learn-model-$train_rows-$rate.json
gen=("$build/gen_declarations" --anomaly-rate 0 --illicit-rate "$rate")
[ -s "$day" ] || "${gen[@]}" -n "$rows" --seed 31 --start 2026-11-24 -o "$day"
[ -s "$train" ] || "${gen[@]}" -n "$train_rows" --seed 29 --start 2026-11-20 --days "$train_days" -o "$train"
[ -s "$hist" ] || "${gen[@]}" -n "$hist_rows" --seed 30 --start 2026-09-25 --days 60 -o "$hist"
[ -s "$baseline" ] && [ "$baseline" -nt "$ecorisk" ] || "$ecorisk" baseline build --feed "$hist" --out "$baseline" -q
echo "training: $train ($train_rows rows, $train_days day(s) from 2026-11-20)  scored day: $day ($rows rows, 2026-11-24)  cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
/usr/bin/time -f "learn: %e s wall, %M KB peak" "$ecorisk" learn --feed "$train" --label-field illicit \
  --baseline "$baseline" --out "$model" --report "$out/learn-report.json"
"$ecorisk" backtest --feed "$day" --label-field illicit --baseline "$baseline" --model "$model" \
  --out "$out/learn-backtest.json" | sed -n '/^Ranking by risk/,$p'
for m in "" "--model $model"; do
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$ecorisk" run --feed "$day" --baseline "$baseline" $m --threads 2 --out "$out/learn-run" -q
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v n="$rows" -v m="${m:+with the model}" \
    'BEGIN { printf "run %s: %.2f s, %.0f declarations/s\n", (m == "" ? "packs only" : m), b - a, n / (b - a) }'
done
