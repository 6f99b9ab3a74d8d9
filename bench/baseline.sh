#!/usr/bin/env bash
# baseline.sh — throughput of the statistics module:
#  1. `ecorisk baseline build` end to end on N synthetic history rows (default
#     5,000,000 canonical CSV rows over two years, from gen_declarations when it
#     is built, else from baseline_bench's own generator), next to reference
#     tools on the same file in the same run (wc -l, awk field split, and
#     `ecorisk ingest`, the parsing + validation the build sits on);
#  2. `baseline merge` of the builds of 4 shards of that file (checked
#     byte-identical to the whole build);
#  3. the builder alone (in-memory declarations, no parsing) and the anomaly
#     features on 1,000,000 declarations on one core (baseline_bench, CPU time).
# Wall and CPU seconds, rows/s and peak RSS (/usr/bin/time -v); each tool runs
# RUNS times (default 2) and the best wall time is kept (the machine is shared).
# Usage: bench/baseline.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
runs=${RUNS:-2}
build=${ECORISK_BUILD:-build}
if [ ! -x "$build/ecorisk" ] || [ ! -x "$build/baseline_bench" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 >/dev/null
fi
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
feed=$out/history-$rows.csv
if [ ! -s "$feed" ]; then
  if [ -x "$build/gen_declarations" ]; then
    "$build/gen_declarations" -n "$rows" --seed 11 --start 2024-01-01 --days 730 -o "$feed"
    gen="gen_declarations --seed 11 --days 730"
  else
    "$build/baseline_bench" csv "$rows" 11 > "$feed"
    gen="baseline_bench csv (seed 11)"
  fi
else
  gen="existing file"
fi
bytes=$(stat -c %s "$feed")
echo "history: $feed  rows: $rows  bytes: $bytes  generator: ${gen}  cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-34s %8s %8s %12s %10s\n' "tool" "wall s" "cpu s" "rows/s" "peak RSS"

measure() {   # name, then the command
  local name=$1; shift
  local best="" cpu=0 rss=0
  for _ in $(seq "$runs"); do
    local t w c m
    t=$( { /usr/bin/time -v "$@" >/dev/null; } 2>&1 | awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; w = s }
        /User time/ { u = $2 } /System time/ { y = $2 }
        /Maximum resident set size/ { m = $2 }
        END { print w, u + y, m }')
    read -r w c m <<< "$t"
    if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$w; cpu=$c; rss=$m; fi
  done
  awk -v n="$name" -v w="$best" -v c="$cpu" -v r="$rows" -v m="$rss" 'BEGIN {
      if (w <= 0) w = 0.001;
      printf "%-34s %8.3f %8.3f %12.0f %7.1f MB\n", n, w, c, r / w, m / 1024 }'
}

measure "wc -l"                          wc -l "$feed"
measure "awk -F, (field split)"          awk -F, '{ n += NF } END { print n }' "$feed"
measure "ecorisk ingest (parse+validate)" "$build/ecorisk" ingest --feed "$feed" --mapping canonical-csv
measure "ecorisk baseline build"         "$build/ecorisk" baseline build -q --feed "$feed" --mapping canonical-csv --out "$out/baseline-$rows.json"
echo "baseline file: $(stat -c %s "$out/baseline-$rows.json") bytes"

# shards + merge (byte-identical to the whole build)
awk -v dir="$out" -v r="$rows" 'NR == 1 { h = $0; for (k = 0; k < 4; k++) print h > (dir "/shard" k "-" r ".csv"); next }
    { print > (dir "/shard" ((NR - 2) % 4) "-" r ".csv") }' "$feed"
for k in 0 1 2 3; do
  "$build/ecorisk" baseline build -q --feed "$out/shard$k-$rows.csv" --mapping canonical-csv --out "$out/shard$k-$rows.json"
done
measure "ecorisk baseline merge (4 shards)" "$build/ecorisk" baseline merge -q "$out"/shard{0,1,2,3}-"$rows".json --out "$out/merged-$rows.json"
if cmp -s "$out/merged-$rows.json" "$out/baseline-$rows.json"; then
  echo "merge of 4 shards: byte-identical to the whole build"
else
  echo "merge of 4 shards: DIFFERS from the whole build (duplicate ids across shards?)"
fi
rm -f "$out"/shard?-"$rows".csv "$out"/shard?-"$rows".json

echo "-- library only, CPU time of one thread (baseline_bench):"
"$build/baseline_bench" build "$rows" 11
# three times: CPU time on a shared 2-core VM varies by up to 40% from run to
# run (the sibling hyperthread's load); read the best and the spread.
for k in 1 2 3; do
  "$build/baseline_bench" features "$out/baseline-$rows.json" 1000000 12 | sed "s/^/[$k] /"
done
