#!/usr/bin/env bash
# sample-day.sh — from a clean checkout: install missing packages, build, and
# run the nightly job on the bundled sample day with the bundled baseline and
# the shipped profile packs, then write the HTML report.
#   docker/sample-day.sh [OUT_DIR]     (default: out/sample-day)
# With ECORISK=/path/to/ecorisk set, uses that binary and skips install and
# build (the test suite runs the script that way).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/sample-day}
if [ -z "${ECORISK:-}" ]; then
  docker/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target ecorisk >/dev/null
  eco=build/ecorisk
else
  eco=$ECORISK
fi
day=feeds/samples/sample-day.csv
$eco run --feed "$day" --baseline feeds/samples/baseline.json \
         --profiles profiles --config feeds/samples/run-config.json \
         --as-of 2026-01-05 --out "$out" --all-scores
$eco report --run "$out" --out "$out/report.html"
echo
echo "alerts:     $out/alerts.jsonl ($(wc -l < "$out/alerts.jsonl") alerts)"
echo "quarantine: $out/quarantine.jsonl ($(wc -l < "$out/quarantine.jsonl") records)"
echo "summary:    $out/summary.json"
echo "metrics:    $out/metrics.prom"
echo "report:     $out/report.html"
first=$(sed -n 's/.*"declaration":{"id":"\([^"]*\)".*/\1/p' "$out/alerts.jsonl" | head -1 || true)
echo
echo "why was $first flagged?"
echo "  $eco explain --feed $day --baseline feeds/samples/baseline.json --id $first"
