#!/usr/bin/env bash
# nightly.sh — the nightly job: score one day's feed, then spool and push the
# alerts to the CEN-style endpoint. The image installs it as ecorisk-nightly
# and docker-compose.yml runs it; tests/integration/docker_scripts.sh runs it
# against the test receiver, so what the container does is what CI tests.
#
# Configuration (environment):
#   ECORISK_FEED        feed file, '-' or URL (required)
#   ECORISK_ENDPOINT    receiver URL; unset = score and spool only
#   ECORISK_DATE        business date YYYY-MM-DD (default: yesterday, UTC)
#   ECORISK_RUNS        where run outputs go, one folder per date (default /var/lib/ecorisk/runs)
#   ECORISK_OUTBOX      outbox directory (default /var/lib/ecorisk/outbox)
#   ECORISK_BASELINE    baseline file (optional)
#   ECORISK_PROFILES    profile pack file or directory (default: the shipped packs)
#   ECORISK_MAPPING     feed mapping (optional)
#   ECORISK_CACERT      CA certificate to verify the endpoint (optional)
#   ECORISK_TOKEN_FILE  bearer token file (optional; or ECORISK_TOKEN)
#   ECORISK_NON_NOMINAL 1 = strip importer/exporter/declarant from what is pushed
#   ECORISK_THREADS     scoring threads (default 0: one per CPU)
#   ECORISK_MAX_QUARANTINE_SHARE  quarantined share above which the run exits 3 (default 0.05)
#   ECORISK_METRICS     also write the metrics here, atomically, on failure too
#                       (e.g. /var/lib/prometheus/node-exporter/ecorisk.prom)
#   ECORISK_BIN         the ecorisk binary (default: ecorisk on PATH)
#   ECORISK_WRAP        command put in front of ecorisk (e.g. valgrind), tests only
# Exit status: ecorisk's (0 done; 75 alerts left pending for the next push; 3 done
# and pushed, but more rows were quarantined than ECORISK_MAX_QUARANTINE_SHARE allows).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
: "${ECORISK_FEED:?ECORISK_FEED is required}"
bin=${ECORISK_BIN:-ecorisk}
wrap=${ECORISK_WRAP:-}
date=${ECORISK_DATE:-$(date -u -d yesterday +%F)}
runs=${ECORISK_RUNS:-/var/lib/ecorisk/runs}
outbox=${ECORISK_OUTBOX:-/var/lib/ecorisk/outbox}
out=$runs/$date

run_args=(run --feed "$ECORISK_FEED" --out "$out" --as-of "$date" --threads "${ECORISK_THREADS:-0}")
[ -n "${ECORISK_BASELINE:-}" ] && run_args+=(--baseline "$ECORISK_BASELINE")
[ -n "${ECORISK_PROFILES:-}" ] && run_args+=(--profiles "$ECORISK_PROFILES")
[ -n "${ECORISK_MAPPING:-}" ] && run_args+=(--mapping "$ECORISK_MAPPING")
[ -n "${ECORISK_MAX_QUARANTINE_SHARE:-}" ] && run_args+=(--max-quarantine-share "$ECORISK_MAX_QUARANTINE_SHARE")
[ -n "${ECORISK_METRICS:-}" ] && run_args+=(--metrics "$ECORISK_METRICS")
mkdir -p "$runs"
# 3: the run wrote everything but quarantined too much; its alerts still go out.
run_rc=0
$wrap "$bin" "${run_args[@]}" || run_rc=$?
[ "$run_rc" -eq 0 ] || [ "$run_rc" -eq 3 ] || exit "$run_rc"

push_args=(push --outbox "$outbox" --enqueue "$out/alerts.jsonl")
if [ -z "${ECORISK_ENDPOINT:-}" ]; then
  push_args+=(--no-send)
else
  push_args+=(--endpoint "$ECORISK_ENDPOINT")
  [ -n "${ECORISK_CACERT:-}" ] && push_args+=(--cacert "$ECORISK_CACERT")
  [ -n "${ECORISK_TOKEN_FILE:-}" ] && push_args+=(--token-file "$ECORISK_TOKEN_FILE")
  [ "${ECORISK_NON_NOMINAL:-0}" = 1 ] && push_args+=(--non-nominal)
fi
$wrap "$bin" "${push_args[@]}" || exit $?
exit "$run_rc"
