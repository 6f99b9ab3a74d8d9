#!/usr/bin/env bash
# sample-day.sh — from a clean checkout: install missing packages, build, and
# run the nightly job on the bundled sample day with the bundled baseline and
# the shipped profile packs, then write the HTML report.
#   docker/sample-day.sh [OUT_DIR]     (default: out/sample-day)
# With ECORISK=/path/to/ecorisk set, uses that binary and skips install and
# build (the test suite runs the script that way).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/sample-day}
if [ -z "${ECORISK:-}" ]; then
  docker/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  # everything `cmake --install build` installs (not the tests): CLI, libraries, man pages, completions
  cmake --build build -j "$(nproc 2>/dev/null || echo 2)" \
      --target ecorisk ecorisk_shared ecorisk_static man completions >/dev/null
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
# the alert most worth a look: highest risk (alerts from before risk: highest score)
top=$(awk '{
        v = -1
        if (match($0, /"risk":[0-9.eE+-]+/)) v = substr($0, RSTART + 7, RLENGTH - 7) + 0
        else if (match($0, /"score":[0-9.eE+-]+/)) v = substr($0, RSTART + 8, RLENGTH - 8) + 0
        if (match($0, /"declaration":\{"id":"[^"]*"/)) id = substr($0, RSTART + 21, RLENGTH - 22); else next
        if (v > best) { best = v; top = id }
      } END { print top }' best=-1 "$out/alerts.jsonl")
echo
echo "why was $top flagged (the highest-risk alert)?"
echo "  $eco explain --feed $day --baseline feeds/samples/baseline.json --id $top"
