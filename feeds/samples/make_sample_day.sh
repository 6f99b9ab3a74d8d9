#!/usr/bin/env bash
# make_sample_day.sh — regenerates feeds/samples/sample-day.csv, the day the
# README's main command runs on: 2,000 synthetic declarations of 2026-01-05
# (bench/gen_declarations, seed 42, 0.5% planted anomalies, 1% invalid rows)
# followed by the hand-written planted cases and bad records of
# tests/fixtures/run/day.csv (wildlife, ODS and waste patterns, near-misses),
# re-dated to the same day. Deterministic; tests/integration/sample_day.sh
# checks the bundled file is what this script writes.
#   feeds/samples/make_sample_day.sh [BUILD_DIR] [OUT]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=${2:-$here/sample-day.csv}
{
  "$build/gen_declarations" -n 2000 --seed 42 --start 2026-01-05 --anomaly-rate 0.005 --invalid-rate 0.01
  tail -n +2 "$here/../../tests/fixtures/run/day.csv" | sed 's/,2026-11-24,/,2026-01-05,/'
} > "$out"
