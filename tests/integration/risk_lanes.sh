#!/usr/bin/env bash
# risk_lanes.sh — an alert's lane follows its risk (docs/operations.md, run
# config `risk_lanes`): the default thresholds, thresholds from a run config,
# the same lane from `explain --config`, random controls keeping their
# profile's lane, and a bad config failing with file and JSON path.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}"
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
S=$ECORISK_SRC/feeds/samples
run() { ${ECORISK_WRAP:-} "$ECORISK" "$@"; }

check() {   # check DIR RED YELLOW: every alert's lane is the one its risk asks for
    python3 - "$@" <<'PY'
import json, sys
d, red, yellow = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
n = {"red": 0, "yellow": 0, "blue": 0}
for line in open(f"{d}/alerts.jsonl"):
    a = json.loads(line)
    if a["random"]:
        assert a["lane"] in ("red", "yellow"), a
        continue
    want = "red" if a["risk"] >= red else "yellow" if a["risk"] >= yellow else "blue"
    assert a["lane"] == want, (a["declaration"]["id"], a["risk"], a["lane"], want)
    n[want] += 1
s = json.load(open(f"{d}/summary.json"))["alerts"]["by_lane"]
print(n["red"], n["yellow"], n["blue"], s["red"], s["yellow"], s["blue"])
PY
}

run run --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --out "$T/default" -q
read -r r y b sr sy sb < <(check "$T/default" 0.5 0.2)
[ "$r" -gt 0 ] && [ "$y" -gt 0 ] || fail "default lanes: $r red, $y yellow by risk (expected both)"
[ $((r + y + b)) -le $((sr + sy + sb)) ] || fail "summary lanes disagree with the alerts"

cat >"$T/run.json" <<'JSON'
{"comment": "stricter lanes", "risk_lanes": {"red": 0.99, "yellow": 0.9}, "rules": []}
JSON
run run --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --config "$T/run.json" --out "$T/strict" -q
read -r r2 y2 b2 _ < <(check "$T/strict" 0.99 0.9)
[ "$r2" -lt "$r" ] || fail "stricter red threshold did not shrink the red lane ($r2 vs $r)"
[ $((r2 + y2 + b2)) -eq $((r + y + b)) ] || fail "lanes changed which declarations alert"
cmp -s <(python3 -c 'import json,sys; [print(json.loads(l)["declaration"]["id"]) for l in open(sys.argv[1])]' "$T/default/alerts.jsonl") \
       <(python3 -c 'import json,sys; [print(json.loads(l)["declaration"]["id"]) for l in open(sys.argv[1])]' "$T/strict/alerts.jsonl") \
    || fail "the risk order of alerts changed with the lanes"

# explain --config gives the lane the run gave.
top=$(head -1 "$T/strict/alerts.jsonl" | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["declaration"]["id"], a["lane"])')
id=${top% *} lane=${top#* }
got=$(run explain --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --config "$T/run.json" --id "$id" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"]["lane"])')
[ "$got" = "$lane" ] || fail "explain --config lane $got, run lane $lane for $id"

# A bad config names the file and the JSON path.
echo '{"risk_lanes": {"red": 0.2, "yellow": 0.5}, "rules": []}' >"$T/bad.json"
set +e
msg=$(run run --feed "$S/sample-day.csv" --config "$T/bad.json" --out "$T/bad" -q 2>&1); rc=$?
set -e
[ "$rc" -eq 65 ] || fail "bad risk_lanes: exit $rc, expected 65"
grep -qF "$T/bad.json: \$.risk_lanes: the yellow risk must not exceed the red risk" <<<"$msg" || fail "message: $msg"
echo '{"risk_lanes": {"red": 1.5}, "rules": []}' >"$T/bad2.json"
msg=$(run run --feed "$S/sample-day.csv" --config "$T/bad2.json" --out "$T/bad" -q 2>&1 || true)
grep -qF "$T/bad2.json: \$.risk_lanes.red: expected a risk above 0 and at most 1" <<<"$msg" || fail "message: $msg"
echo "risk lanes: default $r red / $y yellow / $b blue; strict $r2 / $y2 / $b2; explain agrees; bad configs refused"
