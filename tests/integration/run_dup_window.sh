#!/usr/bin/env bash
# run_dup_window.sh — when a feed has more ids than the duplicate-id table
# holds exactly (ER_FEED_DUP_EXACT = 3,145,728), the table restarts and a
# repeat across the restart is not caught. `run` says so, as `ingest` does:
# summary.json "dup_window_resets", the ecorisk_dup_window_resets metric and a
# warning in the log (docs/feeds.md, Duplicates; docs/operations.md).
set -euo pipefail
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
E=${ECORISK:?}
cd "$T"
"$ECORISK_BUILD/gen_declarations" -n 5000 --seed 11 --start 2026-05-01 --days 200 -o hist.csv
"$E" baseline build --feed hist.csv --out baseline.json 2>/dev/null
# 3,150,000 distinct ids, then the first one again: one restart (after id
# 3,145,728), and the repeat falls after it, so it is accepted.
awk 'BEGIN { print "id,date,hs,net_kg"
             for (i = 1; i <= 3150000; i++) printf "D%d,2026-11-24,010690,5\n", i
             print "D1,2026-11-24,010690,5" }' > big.csv
"$E" run --feed big.csv --baseline baseline.json --as-of 2026-11-24 --threads 2 --out o 2> run.err \
  || { cat run.err; fail "run exited $?"; }
python3 - o/summary.json <<'PY' || fail "summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["dup_window_resets"] == 1, s.get("dup_window_resets")
assert s["rows"] == {"read": 3150001, "accepted": 3150001, "quarantined": 0, "reconciled": True}, s["rows"]
PY
grep -qx 'ecorisk_dup_window_resets 1' o/metrics.prom || fail "metric: $(grep dup_window o/metrics.prom)"
grep -q 'warn: run [0-9a-f]*: the duplicate-id check restarted 1 time(s) (past 3145728 ids per feed)' run.err \
  || fail "no warning: $(cat run.err)"
# ingest reports the same figure for the same feed
"$E" ingest --feed big.csv --json | grep -q '"dup_window_resets":1,' || fail "ingest disagrees"
# below the limit: 0 everywhere, no warning
head -n 1001 big.csv > small.csv
"$E" run --feed small.csv --baseline baseline.json --as-of 2026-11-24 --out s 2> s.err
grep -q '"dup_window_resets": 0,' s/summary.json || fail "small: $(grep dup s/summary.json)"
grep -qx 'ecorisk_dup_window_resets 0' s/metrics.prom || fail "small metric"
! grep -q 'duplicate-id check restarted' s.err || fail "small: warned"
echo "run_dup_window: ok"
