#!/usr/bin/env bash
# ingest.sh — throughput of `ecorisk ingest` on a synthetic day of N rows
# (default 1,000,000, canonical CSV from gen_declarations, seed 7), next to
# reference tools on the same file in the same run: wc -l, gzip -dc of a
# gzipped copy, awk -F, field splitting, and ingest of the gzipped copy.
# Prints wall time, rows/s, MB/s and peak RSS (/usr/bin/time -v). Each tool
# runs RUNS times (default 3); the best wall time is reported (the machine
# is shared); rows per CPU second is shown too, as wall time means little on
# a loaded machine. Builds build/ if needed.  Usage: bench/ingest.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${RUNS:-3}
build=${ECORISK_BUILD:-build}
if [ ! -x "$build/ecorisk" ] || [ ! -x "$build/gen_declarations" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 >/dev/null
fi
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
feed=$out/ingest-$rows.csv
if [ ! -s "$feed" ]; then
  "$build/gen_declarations" -n "$rows" --seed 7 --days 1 -o "$feed"
fi
[ -s "$feed.gz" ] || gzip -1 -c "$feed" > "$feed.gz"
bytes=$(stat -c %s "$feed")
lines=$(wc -l < "$feed")
echo "feed: $feed  rows: $rows  bytes: $bytes ($(awk -v b="$bytes" -v r="$rows" 'BEGIN{printf "%.0f", b/r}') bytes/row)  cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-30s %8s %8s %12s %9s %13s %10s\n' "tool" "wall s" "cpu s" "rows/s" "MB/s" "rows/cpu-s" "peak RSS"

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
  awk -v n="$name" -v w="$best" -v c="$cpu" -v r="$rows" -v b="$bytes" -v m="$rss" 'BEGIN {
      if (w <= 0) w = 0.001;
      if (c <= 0) c = 0.001;
      printf "%-30s %8.3f %8.3f %12.0f %9.1f %13.0f %7.1f MB\n", n, w, c, r / w, b / w / 1e6, r / c, m / 1024 }'
}

measure "wc -l"                      wc -l "$feed"
measure "gzip -dc (of .gz copy)"     gzip -dc "$feed.gz"
measure "awk -F, (field split)"      awk -F, '{ n += NF } END { print n }' "$feed"
measure "ecorisk ingest"             "$build/ecorisk" ingest --feed "$feed"
measure "ecorisk ingest (.gz)"       "$build/ecorisk" ingest --feed "$feed.gz"
"$build/ecorisk" ingest --feed "$feed" | tail -1
echo "(wc -l counted $lines lines: header + $((lines - 1)) rows)"
