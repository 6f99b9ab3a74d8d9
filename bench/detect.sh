#!/usr/bin/env bash
# detect.sh — the labelled detection benchmark (docs/scoring.md, "Detection
# benchmark"): how many planted illicit declarations land in the top 1/2/5/10%
# of the ranking, overall, per domain and per pattern, for ecorisk with the
# shipped packs and a baseline built from a labelled history, next to three
# simple references computed on the same day in the same run.
#   bench/detect.sh [ROWS] [HISTORY_ROWS]     (defaults 1000000 and 3000000)
#   SMALL=1 bench/detect.sh                   (the CI day: 50000 rows, 300000 history rows)
# The history covers 60 days before the day and contains undetected past
# cases at the same rate. Generated files are cached in $BENCH_OUT (bench/out);
# the figures go to stdout and $BENCH_OUT/detect.json.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
set -euo pipefail
build=${ECORISK_BUILD:-build}
if [ "${SMALL:-0}" = 1 ]; then
  rows=${1:-50000}; hist_rows=${2:-300000}
else
  rows=${1:-1000000}; hist_rows=${2:-3000000}
fi
rate=${ILLICIT_RATE:-0.0051}
ecorisk=${ECORISK:-$build/ecorisk}
if [ ! -x "$ecorisk" ] || [ ! -x "$build/gen_declarations" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 >/dev/null
fi
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
day=$out/detect-day-$rows-$rate.csv
hist=$out/detect-history-$hist_rows-$rate.csv
baseline=$out/detect-baseline-$hist_rows-$rate.json
gen=("$build/gen_declarations" --anomaly-rate 0 --illicit-rate "$rate")
[ -s "$day" ] || "${gen[@]}" -n "$rows" --seed 31 --start 2026-11-24 -o "$day"
[ -s "$hist" ] || "${gen[@]}" -n "$hist_rows" --seed 30 --start 2026-09-25 --days 60 -o "$hist"
# the baseline is rebuilt whenever the binary is newer (its format and statistics change with the code)
[ -s "$baseline" ] && [ "$baseline" -nt "$ecorisk" ] || "$ecorisk" baseline build --feed "$hist" --out "$baseline" -q
t0=$(date +%s.%N)
"$ecorisk" run --feed "$day" --baseline "$baseline" --all-scores --out "$out/detect-run" -q
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "day: $day ($rows rows)  history: $hist ($hist_rows rows, 60 days)  cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
python3 bench/detect_eval.py --day "$day" --scores "$out/detect-run/scores.csv" --history "$hist" \
  --profiles profiles --json "$out/detect.json" --wall "$wall"
# Documents as live ledgers (docs/registries.md): registries for the same day with planted permit
# reuse, quota overruns and missing consents; their recall and the cost of the registry pass and the
# ledger (REGISTRIES=0 skips it; the CI day, SMALL=1, runs it only with REGISTRIES=1).
if [ "${REGISTRIES:-$([ "${SMALL:-0}" = 1 ] && echo 0 || echo 1)}" = 1 ]; then
  echo
  echo "== registries: planted document fraud on the same day"
  REG_DAY="$day" BENCH_OUT="$out" ECORISK_BUILD="$build" bench/registries.sh "$rows"
fi
