#!/usr/bin/env bash
# run_dup_resets.sh — a day with more distinct ids than the duplicate-id
# check holds exactly (2^21, docs/feeds.md) makes the check restart once; the
# run says so as ingest does: rows.dup_window_resets in summary.json,
# ecorisk_dup_window_resets in metrics.prom and a warning in the log. A day
# under the limit reports 0 and no warning.
set -euo pipefail
: "${ECORISK:?}"
E="${ECORISK_WRAP:-} $ECORISK"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
awk 'BEGIN{print "id,date,hs,net_kg"; for (i = 0; i < 2200000; i++) printf "D%d,2026-11-20,010690,5\n", i}' > "$T/big.csv"
head -1001 "$T/big.csv" > "$T/small.csv"
$E run --feed "$T/big.csv" --out "$T/big" --threads 2 2> "$T/big.log" || { cat "$T/big.log"; fail "big run"; }
grep -q '"dup_window_resets": 1,' "$T/big/summary.json" || fail "summary: $(grep -o '"rows": {[^}]*}' "$T/big/summary.json")"
grep -qx 'ecorisk_dup_window_resets 1' "$T/big/metrics.prom" || fail "metrics"
grep -q 'warn: .*duplicate-id check restarted 1 time' "$T/big.log" || fail "no warning: $(cat "$T/big.log")"
$E run --feed "$T/small.csv" --out "$T/small" 2> "$T/small.log" || fail "small run"
grep -q '"dup_window_resets": 0,' "$T/small/summary.json" || fail "small summary"
grep -qx 'ecorisk_dup_window_resets 0' "$T/small/metrics.prom" || fail "small metrics"
if grep -q 'duplicate-id check restarted' "$T/small.log"; then fail "warning on a small day"; fi
echo "run_dup_resets: ok"
