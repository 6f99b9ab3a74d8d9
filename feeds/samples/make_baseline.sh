#!/usr/bin/env bash
# make_baseline.sh — regenerates the bundled baseline (feeds/samples/baseline.json)
# for the sample day: 100,000 synthetic declarations of the year before it
# (bench/gen_declarations, seed 5, 2025-01-05 .. 2026-01-04), built with
# `ecorisk baseline build`. Deterministic: tests/integration/sample_day.sh
# rebuilds it and checks the bundled file is byte-identical.
#   feeds/samples/make_baseline.sh [BUILD_DIR] [OUT]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=${2:-$here/baseline.json}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/gen_declarations" -n 100000 --seed 5 --start 2025-01-05 --days 365 -o "$tmp/history.csv"
"$build/ecorisk" baseline build --feed "$tmp/history.csv" --out "$out" -q
