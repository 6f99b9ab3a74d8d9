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
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-5000000}
runs=${RUNS:-2}
bench_build
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
bench_header

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
