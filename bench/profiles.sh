#!/usr/bin/env bash
# profiles.sh — throughput of profile evaluation: all three shipped packs on
# N synthetic declarations already in memory (default 1,000,000), one core.
# Prints declarations/s (wall and thread CPU time) and peak RSS, next to a
# reference measured in the same run on the same descriptions: `wc -l` and an
# awk scan for a handful of keywords.
#   bench/profiles.sh [N]        (env BUILD: build tree, default ./build)
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-1000000}
BIN=$BUILD/bench_eval
[ -x "$BIN" ] || { echo "build first: cmake --build $BUILD --target bench_eval" >&2; exit 1; }
. tests/lib.sh   # scratch directory $T, removed at exit

echo "== profile evaluation: wildlife + ods + waste packs, $N declarations in memory, one core"
/usr/bin/time -v "$BIN" -n "$N" -p profiles -d "$T/desc.txt" >"$T/out" 2>"$T/time"
cat "$T/out"
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$T/time")
echo "peak RSS: ${rss} kB (including the $N declarations themselves)"

echo "== reference on the same $N descriptions ($(du -k "$T/desc.txt" | cut -f1) kB)"
t0=$(date +%s.%N)
lines=$(wc -l <"$T/desc.txt")
t1=$(date +%s.%N)
hits=$(LC_ALL=C awk 'tolower($0) ~ /(pangolin|scales|ivory|r-22|hcfc|bales|scrap|used)/ {n++} END {print n+0}' "$T/desc.txt")
t2=$(date +%s.%N)
awk -v l="$lines" -v h="$hits" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    printf "wc -l: %d lines in %.3f s (%.0f lines/s)\n", l, b - a, l / (b - a + 1e-9)
    printf "awk keyword scan: %d matching lines in %.3f s (%.0f lines/s)\n", h, c - b, l / (c - b + 1e-9)
}'
