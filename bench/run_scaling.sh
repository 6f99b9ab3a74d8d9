#!/usr/bin/env bash
# run_scaling.sh — `ecorisk run` throughput with 1 and 2 threads on a synthetic
# day (default 1M rows, bench/gen_feed.awk) scored against a baseline built
# from a synthetic history, next to reference tools on the same file in the
# same run (wc -l: reading speed; awk summing a column: a parse of every row).
# Prints rows/s, MB/s, peak RSS (/usr/bin/time -v) and the 2-thread speedup;
# best of REPEAT runs each. Performance is measured here, never asserted.
#   bench/run_scaling.sh [ROWS]          env: BUILD (default build), REPEAT (3), THREADS ("1 2")
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
build=${BUILD:-build}
repeat=${REPEAT:-3}
threads=${THREADS:-1 2}
eco=$build/ecorisk
[ -x "$eco" ] || { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build "$build" -j2 --target ecorisk >/dev/null; }
out=bench/out/run_scaling
mkdir -p "$out"
day=$out/day-$rows.csv hist=$out/history.csv bl=$out/baseline.json
[ -s "$day" ] || gawk -v n="$rows" -v seed=11 -v d0=20412 -v days=1 -v pfx=D -f bench/gen_feed.awk >"$day"
[ -s "$hist" ] || gawk -v n=200000 -v seed=7 -v d0=20000 -v days=365 -v pfx=H -f bench/gen_feed.awk >"$hist"
[ -s "$bl" ] || "$eco" baseline build --feed "$hist" --out "$bl" -q
bytes=$(stat -c %s "$day")
echo "ecorisk $("$eco" --version | cut -d' ' -f2), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "day: $day ($rows rows, $((bytes / 1000000)) MB), baseline from 200000 history rows"

# best NAME CMD...: best wall time of $repeat runs; sets best_s and best_rss_kb
best() {
    best_s="" best_rss_kb=0
    for ((r = 0; r < repeat; r++)); do
        /usr/bin/time -f '%e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/err.txt" \
            || { cat "$out/err.txt" >&2; echo "$1 failed" >&2; exit 1; }
        read -r s kb <"$out/time.txt"
        if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then best_s=$s; fi
        [ "$kb" -gt "$best_rss_kb" ] && best_rss_kb=$kb
    done
}
line() { awk -v n="$1" -v r="$rows" -v b="$bytes" -v s="$2" -v kb="$3" -v x="${4:-}" \
    'BEGIN { if (s <= 0) s = 0.001; printf "%-34s %8.2f s %10.0f rows/s %8.1f MB/s %7.1f MB RSS %s\n", n, s, r / s, b / s / 1e6, kb / 1024, x }'; }

best wc -l "$day";                               line "reference: wc -l" "$best_s" "$best_rss_kb"
best awk -F, '{ s += $15 } END { print s }' "$day"; line "reference: awk sum of net_kg" "$best_s" "$best_rss_kb"
best "$eco" ingest --feed "$day" --json;          line "ecorisk ingest (read + validate)" "$best_s" "$best_rss_kb"
t1=""
for t in $threads; do
    rm -rf "$out/run-$t"
    best "$eco" run --feed "$day" --baseline "$bl" --out "$out/run-$t" --threads "$t" --as-of 2025-11-20 -q
    [ -z "$t1" ] && t1=$best_s
    line "ecorisk run --threads $t" "$best_s" "$best_rss_kb" \
        "$(awk -v a="$t1" -v b="$best_s" 'BEGIN { printf "speedup %.2fx", a / b }')"
done
if [ -d "$out/run-1" ] && [ -d "$out/run-2" ]; then
    cmp -s "$out/run-1/alerts.jsonl" "$out/run-2/alerts.jsonl" && echo "alerts identical with 1 and 2 threads ($(wc -l <"$out/run-1/alerts.jsonl") alerts)" \
        || echo "WARNING: alerts differ between 1 and 2 threads"
fi
