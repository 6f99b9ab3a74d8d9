#!/usr/bin/env bash
# ingest.sh — throughput of `ecorisk ingest` on a synthetic day of N rows
# (default 1,000,000, canonical CSV from gen_declarations, seed 7), next to
# reference tools on the same file in the same run: wc -l, gzip -dc of a
# gzipped copy, awk -F, field splitting, and ingest of the gzipped copy.
# Prints wall time, rows/s, MB/s and peak RSS (/usr/bin/time -v). Each tool
# runs RUNS times (default 3); the best wall time is reported (the machine
# is shared); rows per CPU second is shown too, as wall time means little on
# a loaded machine. Builds build/ if needed.  Usage: bench/ingest.sh [ROWS]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-1000000}
bench_build
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
bench_header

measure "wc -l"                      wc -l "$feed"
measure "gzip -dc (of .gz copy)"     gzip -dc "$feed.gz"
measure "awk -F, (field split)"      awk -F, '{ n += NF } END { print n }' "$feed"
measure "ecorisk ingest"             "$build/ecorisk" ingest --feed "$feed"
measure "ecorisk ingest (.gz)"       "$build/ecorisk" ingest --feed "$feed.gz"
"$build/ecorisk" ingest --feed "$feed" | tail -1
echo "(wc -l counted $lines lines: header + $((lines - 1)) rows)"
