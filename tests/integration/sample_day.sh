#!/usr/bin/env bash
# sample_day.sh — the README's main command on the bundled sample day
# (docker/sample-day.sh, with the built binary) on feeds/samples/sample-day.csv: alerts, quarantine, summary,
# metrics and report are written and reconcile; the bundled day and baseline
# are exactly what feeds/samples/make_sample_day.sh and make_baseline.sh rebuild (it cannot drift from
# the code); the run is idempotent.
set -euo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

"$ECORISK_SRC/feeds/samples/make_sample_day.sh" "$ECORISK_BUILD" "$T/sample-day.csv"
cmp -s "$T/sample-day.csv" "$ECORISK_SRC/feeds/samples/sample-day.csv" \
  || fail "feeds/samples/sample-day.csv is stale: run feeds/samples/make_sample_day.sh"
"$ECORISK_SRC/feeds/samples/make_baseline.sh" "$ECORISK_BUILD" "$T/baseline.json"
cmp -s "$T/baseline.json" "$ECORISK_SRC/feeds/samples/baseline.json" \
  || fail "feeds/samples/baseline.json is stale: run feeds/samples/make_baseline.sh"

ECORISK="$ECORISK" "$ECORISK_SRC/docker/sample-day.sh" "$T/day" > "$T/out" 2> "$T/err" || { cat "$T/err"; fail "sample-day.sh exited $?"; }
for f in alerts.jsonl quarantine.jsonl summary.json metrics.prom scores.csv report.html; do
  [ -s "$T/day/$f" ] || fail "$f missing"
done
grep -q "why was .* flagged" "$T/out" || fail "no explain hint printed"
# the hint names the highest-risk alert (the first of alerts.jsonl, which is in risk order)
hint=$(sed -n 's/^why was \([^ ]*\) flagged.*/\1/p' "$T/out")
top=$(python3 -c 'import json,sys; a=[json.loads(l) for l in open(sys.argv[1])]; print(max(a, key=lambda x: x["risk"])["declaration"]["id"])' "$T/day/alerts.jsonl")
[ "$hint" = "$top" ] || fail "explain hint names $hint, the highest-risk alert is $top"
python3 - "$T/day" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(f"{d}/summary.json"))
assert s["rows"] == {"read": 2031, "accepted": 2005, "quarantined": 26, "reconciled": True}, s["rows"]
n = sum(1 for _ in open(f"{d}/alerts.jsonl"))
q = sum(1 for _ in open(f"{d}/quarantine.jsonl"))
assert s["alerts"]["total"] == n and n > 0 and q == 26
domains = {json.loads(l)["domain"] for l in open(f"{d}/alerts.jsonl")}
assert domains == {"wildlife", "ods", "waste"}, domains
html = open(f"{d}/report.html").read()
assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
PY
first=$(sed -n 's/.*"declaration":{"id":"\([^"]*\)".*/\1/p' "$T/day/alerts.jsonl" | head -1 || true)
"$ECORISK" explain --feed "$ECORISK_SRC/feeds/samples/sample-day.csv" \
  --baseline "$ECORISK_SRC/feeds/samples/baseline.json" --id "$first" > "$T/explain.json" 2>/dev/null
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); assert e["declaration"]["id"]==sys.argv[2] and e["alert"]' \
  "$T/explain.json" "$first" || fail "explain of $first"

# idempotent: a second run gives the same files
ECORISK="$ECORISK" "$ECORISK_SRC/docker/sample-day.sh" "$T/day2" > /dev/null 2>&1
for f in alerts.jsonl quarantine.jsonl scores.csv; do cmp -s "$T/day/$f" "$T/day2/$f" || fail "$f differs on re-run"; done
echo "sample_day: ok"
