#!/usr/bin/env bash
# run_e2e.sh — the nightly job end to end with the real CLI: a baseline built
# from generated history, the planted fixture day (tests/fixtures/run/day.csv:
# wildlife, ODS and waste cases, near-misses, and one bad record of each kind),
# the shipped packs. Asserts the exact alert set (declaration, profile, score,
# lane, indicators), the quarantine, the summary counts, byte-identical output
# with 1, 2 and 4 threads and on re-run, stdout mode, a feed mixed with
# garbage, lane capacity, random top-up and exploration slots from a run
# config, and explain.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
E="${ECORISK_WRAP:-} $ECORISK"
F="$ECORISK_SRC/tests/fixtures/run"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

# History: 50k generated declarations over 200 days before the fixture day.
"$ECORISK_BUILD/gen_declarations" -n 50000 --seed 11 --start 2026-05-01 --days 200 -o "$T/hist.csv"
$E baseline build --feed "$T/hist.csv" --out "$T/baseline.json" 2>/dev/null

run() {  # out-dir threads [extra args]
  local out=$1 th=$2; shift 2
  $E run --feed "$F/day.csv" --baseline "$T/baseline.json" --as-of 2026-11-24 \
         --threads "$th" --all-scores --max-quarantine-share 0.5 --out "$out" "$@" 2>"$out.log" \
         || { cat "$out.log"; fail "run exited $?"; }
}
run "$T/o1" 1
run "$T/o2" 2
run "$T/o4" 4 --batch-size 3
run "$T/o1b" 1

# Exact alert set.
python3 - "$T/o1/alerts.jsonl" "$F/expected-alerts.tsv" <<'PY'
import json, sys
got = []
alerts = [json.loads(line) for line in open(sys.argv[1])]
# alerts.jsonl is in risk order, highest first, ties in declaration order (docs/alerts.md)
keys = [(-a["risk"], a["declaration"]["line"]) for a in alerts]
assert keys == sorted(keys), "alerts not in risk order: %s" % keys
assert all(0 < a["risk"] < 1 for a in alerts), [a["risk"] for a in alerts]
# the set, in declaration order as expected-alerts.tsv lists it
for a in sorted(alerts, key=lambda a: a["declaration"]["line"]):
    got.append("\t".join([a["declaration"]["id"], a["profile"]["id"], str(a["score"]), a["lane"],
                          ",".join(i["id"] for i in a["indicators"]),
                          ",".join(o["id"] for o in a["also_fired"])]))
want = [l.rstrip("\n") for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
if got != want:
    print("alerts differ from expected-alerts.tsv:\n--- got\n" + "\n".join(got) + "\n--- want\n" + "\n".join(want))
    sys.exit(1)
# Every alert is well-formed: ids are 32 hex, created is the as-of date, evidence is non-empty.
for line in open(sys.argv[1]):
    a = json.loads(line)
    assert len(a["alert_id"]) == 32 and int(a["alert_id"], 16) >= 0, a["alert_id"]
    assert a["created"] == "2026-11-24T00:00:00Z"
    assert a["domain"] in ("wildlife", "ods", "waste")
    assert all(i["evidence"] for i in a["indicators"]), a["alert_id"]
    assert a["declaration"]["hs"].isdigit()
PY

# Quarantine: one record per bad row, with file, line and reason.
python3 - "$T/o1/quarantine.jsonl" "$F/day.csv" <<'PY'
import json, sys
got = [(q["line"], q["reason"], q.get("field")) for q in map(json.loads, open(sys.argv[1]))]
want = [(26, "bad_hs", "hs"), (27, "bad_country", "destination"), (28, "gross_lt_net", "gross_kg"),
        (29, "missing_field", "date"), (30, "field_count", None), (31, "negative", "net_kg"),
        (32, "duplicate_id", "id")]
assert got == want, got
for q in map(json.loads, open(sys.argv[1])):
    assert q["file"] == sys.argv[2], q["file"]
PY

# Summary: counts reconcile and match.
python3 - "$T/o1/summary.json" "$ECORISK_SRC/engine/include/ecorisk/version.h" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["rows"] == {"read": 31, "accepted": 24, "quarantined": 7, "reconciled": True}, s["rows"]
assert s["quarantined_by_reason"] == {"field_count": 1, "missing_field": 1, "bad_hs": 1, "negative": 1,
                                      "gross_lt_net": 1, "bad_country": 1, "duplicate_id": 1}, s["quarantined_by_reason"]
a = s["alerts"]
n = sum(1 for _ in open(sys.argv[1].replace("summary.json", "alerts.jsonl")))
assert a["total"] == n and sum(a["by_lane"].values()) == n and sum(a["by_domain"].values()) == n
assert sum(p["total"] for p in a["by_profile"].values()) == n
assert len(s["profiles"]) == 23 and s["baseline_id"] and s["dates"] == ["2026-11-24", "2026-11-24"]
# how the run was made: version, as-of, mapping (built-in: no file hash), no run config
import re
ver = re.search(r"#define ECORISK_VERSION \"([^\"]+)\"", open(sys.argv[2]).read()).group(1)
assert s["ecorisk_version"] == ver, (s["ecorisk_version"], ver)
assert s["as_of"] == "2026-11-24", s["as_of"]
assert s["mapping"] == {"name": "canonical-csv", "sha256": None}, s["mapping"]
assert s["config"] is None, s["config"]
assert s["quarantine"] == {"share": 0.225806, "max_share": 0.5, "exceeded": False}, s["quarantine"]
PY
grep -q '^ecorisk_rows{outcome="read"} 31$' "$T/o1/metrics.prom" || fail "metrics.prom rows"
grep -q '^ecorisk_rows{outcome="quarantined"} 7$' "$T/o1/metrics.prom" || fail "metrics.prom quarantine"
if command -v promtool >/dev/null; then
  promtool check metrics < "$T/o1/metrics.prom" || fail "promtool check metrics"
else
  echo "promtool not installed (docker/install-deps.sh): metrics lint skipped"
fi

# Quarantine above the maximum (7 of 31 rows, default 5%): warning, exit 3, outputs written,
# summary and metrics say so; a mapping file and a run config are recorded by hash.
cp "$ECORISK_SRC/feeds/mappings/canonical-csv.json" "$T/map.json"
cp "$ECORISK_SRC/feeds/samples/run-config.json" "$T/cfg.json"
set +e
$E run --feed "$F/day.csv" --as-of 2026-11-24 --out "$T/oq" --metrics "$T/node.prom" \
   --mapping "$T/map.json" --config "$T/cfg.json" 2>"$T/oq.log"; rc=$?
set -e
[ "$rc" -eq 3 ] || fail "run above the quarantine maximum exited $rc: $(cat "$T/oq.log")"
grep -q "warn: run [0-9a-f]*: 22.6% of the rows read were quarantined, above the maximum 5.0% (--max-quarantine-share); see quarantine.jsonl; exit status 3" "$T/oq.log" \
  || fail "quarantine warning: $(cat "$T/oq.log")"
[ -s "$T/oq/alerts.jsonl" ] && [ -s "$T/oq/summary.json" ] || fail "exit 3 without outputs"
grep -q '"quarantine": {"share": 0.225806, "max_share": 0.05, "exceeded": true}' "$T/oq/summary.json" || fail "summary: quarantine"
grep -q '^ecorisk_quarantine_share_exceeded 1$' "$T/oq/metrics.prom" || fail "metrics: exceeded"
python3 - "$T/oq/summary.json" "$T/map.json" "$T/cfg.json" <<'PY'
import hashlib, json, sys
s = json.load(open(sys.argv[1]))
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert s["mapping"] == {"name": "canonical-csv", "sha256": sha(sys.argv[2])}, s["mapping"]   # the name the file declares
assert s["config"] == {"file": sys.argv[3], "sha256": sha(sys.argv[3])}, s["config"]
PY
cmp -s "$T/oq/metrics.prom" "$T/node.prom" || fail "--metrics differs from metrics.prom"
ls "$T"/node.prom.tmp 2>/dev/null && fail "--metrics left its temporary file"

# A failed run writes ecorisk_run_success 0 (and when) to --metrics; the last good one is replaced.
set +e
$E run --feed "$F/day.csv" --out "$T/of" --profiles "$T/no-such-pack.json" --metrics "$T/node.prom" 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 66 ] || fail "run with a missing pack exited $rc"
grep -q '^ecorisk_run_success 0$' "$T/node.prom" || fail "failed run: $(cat "$T/node.prom")"
grep -q '^ecorisk_last_run_timestamp_seconds [0-9]*$' "$T/node.prom" || fail "failed run: no timestamp"
if command -v promtool >/dev/null; then
  promtool check metrics < "$T/node.prom" || fail "promtool on the failure metrics"
fi
[ "$(head -1 "$T/o1/scores.csv")" = "declaration_id,wildlife,ods,waste,risk" ] || fail "scores.csv header"
[ "$(wc -l < "$T/o1/scores.csv")" -eq 25 ] || fail "scores.csv rows"
grep -q '^RUN-W02,100,0,0,0\.[0-9]*$' "$T/o1/scores.csv" || fail "scores.csv RUN-W02: $(grep RUN-W02 "$T/o1/scores.csv")"
# scores.csv's risk is the alert's risk, bit for bit (%.17g round-trips)
python3 - "$T/o1/scores.csv" "$T/o1/alerts.jsonl" <<'PY'
import csv, json, sys
risk = {r["declaration_id"]: float(r["risk"]) for r in csv.DictReader(open(sys.argv[1]))}
assert all(0 < v < 1 for v in risk.values()), risk
for a in map(json.loads, open(sys.argv[2])):
    assert risk[a["declaration"]["id"]] == a["risk"], a["declaration"]["id"]
PY

# Same bytes whatever the thread count and batch size, and on re-run.
for o in o2 o4 o1b; do
  for f in alerts.jsonl quarantine.jsonl scores.csv; do
    cmp -s "$T/o1/$f" "$T/$o/$f" || fail "$f differs between o1 and $o"
  done
  # timings differ, and so does metrics.prom (it holds the duration) in the manifest
  diff <(grep -v '"timings"\|"metrics.prom"' "$T/o1/summary.json") \
       <(grep -v '"timings"\|"metrics.prom"' "$T/$o/summary.json") >/dev/null \
    || fail "summary.json differs between o1 and $o"
done
# No temporary files left behind.
[ -z "$(ls -A "$T/o1" | grep '\.tmp$' || true)" ] || fail "temporary files left in the output directory"

# stdout mode (for Hadoop Streaming / Spark pipe): the same alerts, from stdin.
$E run --feed - --baseline "$T/baseline.json" --as-of 2026-11-24 --out - --max-quarantine-share 0.5 < "$F/day.csv" > "$T/stdout.jsonl" 2>/dev/null
python3 - "$T/o1/alerts.jsonl" "$T/stdout.jsonl" <<'PY'
import json, sys
strip = lambda p: [{k: v for k, v in json.loads(l).items() if k != "run_id"} for l in open(p)]
assert strip(sys.argv[1]) == strip(sys.argv[2]), "stdin/stdout alerts differ"
PY

# A feed mixed with garbage: every row accounted for, the planted alerts unchanged.
python3 - "$F/day.csv" "$T/garbage.csv" <<'PY'
import random, sys
rnd = random.Random(5)
lines = open(sys.argv[1], "rb").read().split(b"\n")
out = [lines[0]]
for l in lines[1:]:
    if not l:
        continue
    out.append(l)
    for _ in range(rnd.randint(0, 2)):
        kind = rnd.randrange(4)
        if kind == 0: out.append(bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 80))).replace(b"\n", b" ").replace(b'"', b"'"))
        elif kind == 1: out.append(l[: rnd.randint(1, len(l) - 1)])
        elif kind == 2: out.append(b"X" * rnd.randint(1, 40000))
        else: out.append(b",".join([b"G%d" % rnd.randrange(10**6)] + l.split(b",")[1:-3]))
open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
PY
$E run --feed "$T/garbage.csv" --baseline "$T/baseline.json" --as-of 2026-11-24 --out "$T/og" --max-quarantine-share 1 2>/dev/null
python3 - "$T/og/summary.json" "$T/og/alerts.jsonl" "$T/o1/alerts.jsonl" "$T/og/quarantine.jsonl" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s["rows"]
assert r["reconciled"] and r["read"] == r["accepted"] + r["quarantined"], r
assert r["accepted"] == 24, r   # garbage never passes validation here
assert sum(1 for _ in open(sys.argv[4])) == r["quarantined"]
key = lambda p: [(a["declaration"]["id"], a["profile"]["id"], a["score"], a["lane"]) for a in map(json.loads, open(p))]
assert key(sys.argv[2]) == key(sys.argv[3]), "garbage changed the alerts"
PY

# Lane capacity and random top-up.
cat > "$T/config.json" <<'CFG'
{"rules": [
  {"office": "*", "flow": "*", "red": 0.25},
  {"office": "NLRTM", "flow": "EX", "red": 0.5},
  {"office": "NLRTM", "flow": "IM", "red": 0.25, "min_random_rate": 0.2, "random_lane": "yellow"}
]}
CFG
run "$T/oc" 2 --config "$T/config.json"
run "$T/oc1" 1 --config "$T/config.json"
cmp -s "$T/oc/alerts.jsonl" "$T/oc1/alerts.jsonl" || fail "planned alerts differ between 1 and 2 threads"
python3 - "$T/oc/alerts.jsonl" "$T/o1/alerts.jsonl" "$T/oc/summary.json" <<'PY'
import json, sys
planned = [json.loads(l) for l in open(sys.argv[1])]
plain = [json.loads(l) for l in open(sys.argv[2])]
# never dropped: every plain alert is still there, same id, in the same order
assert [a["alert_id"] for a in planned if a.get("selection") != "random_topup"] == [a["alert_id"] for a in plain]
lanes = {a["declaration"]["id"]: (a["lane"], a["over_capacity"], a.get("lane_by_score")) for a in planned}
# Capacity per office/flow (accepted declarations: NLSPL/TR 1, NLSPL/EX 1, NLRTM/IM 12, NLSPL/IM 4,
# NLRTM/EX 4): red keeps floor(rate x n) alerts, highest risks first, ties in feed order.
want = {
    "RUN-W01": ("yellow", True, "red"),    # NLSPL/TR: floor(0.25 x 1) = 0
    "RUN-W02": ("yellow", True, "red"),    # NLSPL/EX: 0
    "RUN-W03": ("red", False, None),       # NLRTM/IM: 3 kept by risk: O01 0.990, W03 0.935, O03 0.929
    "RUN-O01": ("red", False, None),
    "RUN-O02": ("yellow", True, "red"),    #   0.873: over capacity
    "RUN-O03": ("red", False, None),
    "RUN-W04": ("red", False, None),       # NLSPL/IM: floor(0.25 x 4) = 1
    "RUN-X01": ("yellow", True, "red"),    # NLRTM/EX: floor(0.5 x 4) = 2 kept by risk: X02 0.99998,
    "RUN-X02": ("red", False, None),       #   X03 0.99736 over X01 0.99297 (its scrap price is a unit
    "RUN-X03": ("red", False, None),       #   error to the baseline: docs/scoring.md 3.1)
    "RUN-X04": ("yellow", True, "red"),
}
for k, v in want.items():
    assert lanes[k] == v, (k, lanes[k], v)
# Random top-up in NLRTM/IM: 7 declarations in scope, rate 0.2 -> ceil(1.4) = 2 control samples,
# chosen among the in-scope declarations that did not alert (RUN-N01, RUN-N03, RUN-O04), in yellow.
top = [a for a in planned if a.get("selection") == "random_topup"]
assert len(top) == 2, [a["declaration"]["id"] for a in top]
for a in top:
    assert a["declaration"]["id"] in ("RUN-N01", "RUN-N03", "RUN-O04") and a["random"] and a["lane"] == "yellow"
s = json.load(open(sys.argv[3]))
assert s["alerts"]["over_capacity"] == 5 and s["alerts"]["random_topup"] == 2 and s["alerts"]["total"] == 13, s["alerts"]
assert s["in_scope"] >= 15, s["in_scope"]
PY

# Exploration slots (docs/operations.md): NLRTM/IM has 7 declarations in scope; explore_rate 0.2
# -> ceil(1.4) = 2 slots, filled with the in-scope declarations that did not alert whose risk is
# nearest 0.5: RUN-O04 (0.0974) and RUN-N01 (0.0273), not RUN-N03 (0.0212); in explore_lane yellow,
# never demoted by capacity (red 0: every risk-selected NLRTM/IM alert moves down to yellow).
cat > "$T/explore.json" <<'CFG'
{"rules": [{"office": "NLRTM", "flow": "IM", "red": 0, "explore_rate": 0.2, "explore_lane": "yellow"}]}
CFG
run "$T/oe" 2 --config "$T/explore.json"
run "$T/oe1" 1 --config "$T/explore.json"
cmp -s "$T/oe/alerts.jsonl" "$T/oe1/alerts.jsonl" || fail "exploration differs between 1 and 2 threads"
python3 - "$T/oe/alerts.jsonl" "$T/o1/alerts.jsonl" "$T/oe/summary.json" <<'PY'
import json, sys
planned = [json.loads(l) for l in open(sys.argv[1])]
plain = [json.loads(l) for l in open(sys.argv[2])]
assert [a["alert_id"] for a in planned if a["slot"] == "risk"] == [a["alert_id"] for a in plain]
assert all(a["slot"] == "risk" for a in plain)
ex = [(a["declaration"]["id"], a["lane"], a["random"], "selection" in a) for a in planned if a["slot"] == "explore"]
assert ex == [("RUN-O04", "yellow", False, False), ("RUN-N01", "yellow", False, False)], ex
s = json.load(open(sys.argv[3]))["alerts"]
assert s["explore"] == 2 and s["random_topup"] == 0 and s["random"] == 0 and s["total"] == len(plain) + 2, s
PY

# explain: the full trace for a planted declaration, and a quarantined one.
$E explain --feed "$F/day.csv" --baseline "$T/baseline.json" --id RUN-W02 > "$T/explain.json" 2>/dev/null
python3 - "$T/explain.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
assert e["declaration"]["id"] == "RUN-W02"
assert e["alert"]["profile"]["id"] == "wl-glass-eels" and e["alert"]["score"] == 100
assert e["anomalies"]["have_baseline"] is True and len(e["anomalies"]["features"]) == 6
assert [f["feature"] for f in e["anomalies"]["features"]][-2:] == ["new_trader", "new_importer"]
# the risk and its terms (docs/scoring.md §6): they add up, and the alert carries the same risk
r = e["risk"]
assert r["risk"] == e["alert"]["risk"]
a = sum(t["log_odds"] for t in r["anomaly_terms"])
assert abs(a - r["anomaly_log_odds"]) < 1e-12
prod = 1.0
for p in r["profiles"]:
    z = p["prior_log_odds"] + sum(i["log_odds"] for i in p["indicators"]) + p["anomaly_scale"] * r["anomaly_log_odds"]
    assert abs(z - p["log_odds"]) < 1e-12, p
    prod *= 1 - p["risk"]
assert abs((1 - prod) - r["risk"]) < 1e-12, (prod, r["risk"])
assert "wl-glass-eels" in [p["id"] for p in r["profiles"]]
PY
$E explain --feed "$F/day.csv" --id RUN-B03 > "$T/explain-q.json" 2>/dev/null
grep -q '"reason":"gross_lt_net"' "$T/explain-q.json" || grep -q '"reason": "gross_lt_net"' "$T/explain-q.json" || fail "explain of a quarantined record"
set +e; $E explain --feed "$F/day.csv" --id NO-SUCH-ID >/dev/null 2>"$T/err"; rc=$?; set -e
[ "$rc" -eq 66 ] || fail "explain of a missing id exited $rc"
grep -q "declaration 'NO-SUCH-ID' not found" "$T/err" || fail "explain missing id message"

# Whole-file problems fail fast with the documented codes.
set +e
$E run --feed "$T/nope.csv" --out "$T/x" 2>/dev/null; rc=$?
[ "$rc" -eq 66 ] || fail "missing feed exited $rc"
echo '{"rules": [{"office": "*", "red": 2}]}' > "$T/bad.json"
$E run --feed "$F/day.csv" --config "$T/bad.json" --out "$T/x" 2>"$T/err"; rc=$?
[ "$rc" -eq 65 ] || fail "bad config exited $rc"
grep -q 'bad.json: \$.rules\[0\].red: expected a rate between 0 and 1' "$T/err" || fail "bad config message: $(cat "$T/err")"
# A corrupt or missing baseline (loaded while the feed is being read) stops the run
# before any output file is written.
sed 's/"rows":/"rows":1/' "$T/baseline.json" > "$T/corrupt.json"
$E run --feed "$F/day.csv" --baseline "$T/corrupt.json" --out "$T/cb" 2>"$T/err"; rc=$?
[ "$rc" -eq 65 ] || fail "corrupt baseline exited $rc: $(cat "$T/err")"
grep -q 'corrupt.json: ' "$T/err" || fail "corrupt baseline message: $(cat "$T/err")"
[ ! -e "$T/cb" ] || fail "a corrupt baseline left output: $(ls -A "$T/cb")"
$E run --feed "$F/day.csv" --baseline "$T/no-such-baseline.json" --out "$T/nb" 2>"$T/err"; rc=$?
[ "$rc" -eq 66 ] || fail "missing baseline exited $rc: $(cat "$T/err")"
[ ! -e "$T/nb" ] || fail "a missing baseline left output"
set -e
echo "run_e2e: ok"
