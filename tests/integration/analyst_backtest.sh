#!/usr/bin/env bash
# analyst_backtest.sh — backtest, outcomes and diff on the small fixture of
# tests/fixtures/analyst, against metrics computed by hand (see the comments:
# 20 labelled declarations, 8 positive; scores follow from the fixture packs).
set -euo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
: "${ECORISK:?}" "${ECORISK_SRC:?}"
F="$ECORISK_SRC/tests/fixtures/analyst"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
cd "$F"
PROFILES=(--profiles pack-a-wildlife.json --profiles pack-waste.json)

# Scores (max over domains) in feed order, with labels:
#   R1 90 +  R2 40 -  R3 70 +  (Q1 quarantined: bad HS)  R4 50 -  R5 20 +  R6 0 -
#   I1 90 +  I2 50 -  I3 40 +  I4 0 -   T1 90 +  T2 60 -  T3 30 -  O1..O7 0 (O1, O5 +)
#   U1, U2 unlabelled (empty, "n/a").  Base rate 8/20 = 0.4.
# Ranking: R1 I1 T1 R3 T2 R4 I2 R2 I3 T3 R5 ...; top 40% = 8 -> 8th score 40,
# score >= 40 selects 9 (ties), 5 of them positive.
"$ECORISK" backtest --feed labelled.csv --label-field seized "${PROFILES[@]}" --target-rate 0.4 \
    --out "$T/bt.json" > "$T/bt.txt"
python3 - "$T/bt.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def check(path, got, want):
    if got != want:
        sys.exit(f"{path}: got {got!r}, want {want!r}")
check("declarations", d["declarations"], {"read": 23, "accepted": 22, "quarantined": 1, "labelled": 20,
      "unlabelled": 2, "labels_from_outcomes": 0, "positives": 8, "base_rate": 0.4})
# all: alerts R1 R3 R4 I1 I2 T1 T2 (7), hits R1 R3 I1 T1 (4); Wilson(4, 7) = [0.250458, 0.84178]
check("overall", d["overall"], {"in_scope": 13, "positives_in_scope": 6, "alerts": 7, "random": 0, "hits": 4,
      "hit_rate": 0.571429, "hit_rate_ci": [0.250458, 0.84178], "recall": 0.5, "recall_in_scope": 0.666667,
      "lift": 1.42857})
dom = {x["domain"]: x for x in d["domains"]}
check("wildlife", dom["wildlife"], {"domain": "wildlife", "in_scope": 10, "positives_in_scope": 5, "alerts": 5,
      "random": 0, "hits": 3, "hit_rate": 0.6, "hit_rate_ci": [0.230724, 0.882379], "recall": 0.375,
      "recall_in_scope": 0.6, "lift": 1.5})
check("ods", (dom["ods"]["alerts"], dom["ods"]["hit_rate"], dom["ods"]["hit_rate_ci"]), (0, None, None))
check("waste", (dom["waste"]["alerts"], dom["waste"]["hits"], dom["waste"]["hit_rate_ci"]), (2, 1, [0.0945312, 0.905469]))
p = {x["id"]: x for x in d["profiles"]}
r = p["t-reptiles"]
# t-reptiles: R1..R6 in scope (3 positive); alerts R1 90, R3 70, R4 50; hits R1 R3.
check("t-reptiles", {k: r[k] for k in ("in_scope", "positives_in_scope", "alerts", "hits", "hit_rate",
      "hit_rate_ci", "recall", "recall_in_scope", "lift", "threshold_at_target")},
      {"in_scope": 6, "positives_in_scope": 3, "alerts": 3, "hits": 2, "hit_rate": 0.666667,
       "hit_rate_ci": [0.20766, 0.938508], "recall": 0.25, "recall_in_scope": 0.666667, "lift": 1.66667,
       "threshold_at_target": None})
check("t-reptiles by_month", r["by_month"], [{"month": "2026-01", "alerts": 3, "hits": 2, "hit_rate": 0.666667,
      "hit_rate_ci": [0.20766, 0.938508]}])
check("t-ivory", (p["t-ivory"]["in_scope"], p["t-ivory"]["alerts"], p["t-ivory"]["hits"], p["t-ivory"]["lift"]), (4, 2, 1, 1.25))
check("t-tyres", (p["t-tyres"]["in_scope"], p["t-tyres"]["alerts"], p["t-tyres"]["recall_in_scope"]), (3, 2, 1))
# 1 %, 2 %, 5 % of 20 all inspect ceil(.) = 1 declaration: R1 (positive, score 90).
check("ranking", d["ranking"]["at"], [
    {"rate": r_, "inspected": 1, "hits": 1, "precision": 1, "recall": 0.125, "lift": 2.5, "min_score": 90}
    for r_ in (0.01, 0.02, 0.05)])
# Average precision (docs/analysts.md): positives at ranks 1-4 (R1 I1 T1 R3), 9 (I3), 11 (R5),
# 14 (O1) and 18 (O5): (4 + 5/9 + 6/11 + 7/14 + 8/18) / 8 = 0.755682.
check("ap", d["ranking"]["average_precision"], 0.755682)
# By risk: no baseline, every profile at the default prior and one profile in scope per
# declaration, so the risk is monotone in the points (10 points double the odds) and the
# ranking is the same; 10 % of 20 inspects R1 and I1 (risk σ(logit 0.01 + 9 ln 2) = 0.837971).
rr = d["risk_ranking"]
check("risk n", (rr["n"], rr["positives"], rr["average_precision"]), (20, 8, 0.755682))
check("risk at 10%", {k: rr["at"][3][k] for k in ("rate", "inspected", "hits", "precision")},
      {"rate": 0.1, "inspected": 2, "hits": 2, "precision": 1})
assert abs(rr["at"][0]["min_risk"] - 1 / (1 + 99 / 2**9)) < 1e-12, rr["at"][0]["min_risk"]
check("target", d["target"], {"rate": 0.4, "k": 8, "threshold": 40, "selected": 9, "actual_rate": 0.45,
      "precision": 0.555556, "recall": 0.625, "reachable": True})
EOF
grep -q '^t-reptiles                       wildlife        6       3      2    66.7% \[20.8%, 93.9%\]      25.0%   1.67$' "$T/bt.txt" \
    || { echo "table row for t-reptiles not as expected:"; cat "$T/bt.txt"; exit 1; }
grep -q 'Target inspection rate 40.0%: score >= 40 selects 9 declarations (45.0%), precision 55.6%, recall 62.5%.' "$T/bt.txt"

# Same inputs, same bytes.
"$ECORISK" backtest --feed labelled.csv --label-field seized "${PROFILES[@]}" --target-rate 0.4 --out "$T/bt2.json" > /dev/null
cmp "$T/bt.json" "$T/bt2.json"

# Per-profile threshold at 25 %: k = 5; t-reptiles in-scope scores 90 70 50 40 20 0 -> 20; the others have < 5.
"$ECORISK" backtest --feed labelled.csv --label-field seized "${PROFILES[@]}" --target-rate 0.25 --out - \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); t={p["id"]: p["threshold_at_target"] for p in d["profiles"]}
assert t == {"t-reptiles": 20, "t-ivory": None, "t-tyres": None}, t
assert d["target"]["threshold"] == 60 and d["target"]["selected"] == 5 and d["target"]["precision"] == 0.8, d["target"]'

# Outcomes: R4 was seized after all (0 -> 1), U1 (unlabelled) was seized: 21 labelled, 10 positive.
"$ECORISK" outcomes add --file outcomes.csv --store "$T/store" 2> "$T/add.log"
grep -q '2 rows: 2 added, 0 updated, 0 unchanged' "$T/add.log"
"$ECORISK" outcomes add --file outcomes.csv --store "$T/store" 2> "$T/add.log"
grep -q '2 rows: 0 added, 0 updated, 2 unchanged' "$T/add.log"
test "$(wc -l < "$T/store/outcomes.jsonl")" -eq 2
"$ECORISK" backtest --feed labelled.csv --label-field seized --outcomes "$T/store" "${PROFILES[@]}" --out - \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); x=d["declarations"]; r=d["profiles"][0]
assert (x["labelled"], x["unlabelled"], x["labels_from_outcomes"], x["positives"]) == (21, 1, 2, 10), x
# t-reptiles: alerts R1 R3 R4 U1, all seized: 4/4, Wilson(4, 4) = [0.510109, 1]
assert (r["alerts"], r["hits"], r["hit_rate"], r["hit_rate_ci"]) == (4, 4, 1, [0.510109, 1]), r'
# Outcome store alone as the label source: only R4 and U1 are labelled.
"$ECORISK" backtest --feed labelled.csv --outcomes "$T/store" "${PROFILES[@]}" --out - \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); x=d["declarations"]
assert (x["labelled"], x["unlabelled"], x["positives"]) == (2, 20, 2), x'

# Errors: an unknown label column, a bad results file (nothing written), no labels at all.
rc=0; "$ECORISK" backtest --feed labelled.csv --label-field Fraud "${PROFILES[@]}" > /dev/null 2> "$T/err" || rc=$?
test "$rc" -eq 65; grep -q "label field 'Fraud': no declaration of the feed carries it" "$T/err"
printf 'declaration_id,seized\nR1,maybe\n' > "$T/bad.csv"
rc=0; "$ECORISK" outcomes add --file "$T/bad.csv" --store "$T/store" 2> "$T/err" || rc=$?
test "$rc" -eq 65; grep -q "bad.csv:2: seized: expected yes/no, true/false or 1/0, got 'maybe'" "$T/err"
test "$(wc -l < "$T/store/outcomes.jsonl")" -eq 2
rc=0; "$ECORISK" backtest --feed labelled.csv "${PROFILES[@]}" 2> /dev/null || rc=$?
test "$rc" -eq 64

# Diff: candidate pack lowers t-reptiles' threshold to 40 (R2 gained), drops t-ivory (I1, I2 lost),
# adds t-eels (no declaration in scope).
"$ECORISK" diff --feed labelled.csv "${PROFILES[@]}" --against pack-b-wildlife.json --against pack-waste.json \
    --out "$T/diff.json" > "$T/diff.txt"
python3 - "$T/diff.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["alerts"]
assert (a["a"], a["b"], a["gained"], a["lost"], a["profile_changed"], a["lane_changed"], a["unchanged"]) == (8, 7, 1, 2, 0, 0, 6), a
assert a["gained_examples"] == [{"id": "R2", "score_a": 40, "score_b": 40, "lane_a": "none", "lane_b": "yellow"}], a
assert [e["id"] for e in a["lost_examples"]] == ["I1", "I2"], a
assert a["lanes"] == {"none->yellow": 1, "yellow->none": 1, "yellow->yellow": 3, "red->none": 1, "red->red": 3}, a
p = {x["id"]: x for x in d["profiles"]}
r = p["t-reptiles"]
assert (r["status"], r["version_a"], r["version_b"], r["alerts_a"], r["alerts_b"], r["gained"], r["lost"], r["kept"],
        r["score_down"]) == ("both", 1, 2, 4, 5, 1, 0, 4, 4), r
assert (p["t-ivory"]["status"], p["t-ivory"]["lost"]) == ("removed", 2)
assert (p["t-eels"]["status"], p["t-eels"]["alerts_b"]) == ("added", 0)
assert (p["t-tyres"]["gained"], p["t-tyres"]["lost"], p["t-tyres"]["kept"]) == (0, 0, 2)
EOF
grep -q 'alerts 8 -> 7 (-1): 1 gained, 2 lost, 0 moved to another profile, 0 changed lane, 6 unchanged.' "$T/diff.txt"
# diff by risk with labels: A is the backtest's pair of packs (same AP, 0.755682); B drops the
# waste pack, so T1 leaves the top: the top 10 % (k = 3 of 22 declarations) is R1 I1 T1 in A and
# R1 I1 R3 in B, 2 in both; the top 1 % (k = 1) is R1 in both.
"$ECORISK" diff --feed labelled.csv --label-field seized "${PROFILES[@]}" --against pack-a-wildlife.json --out - \
    2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["risk_ranking"]
assert r["n"] == 22 and (r["labelled"], r["positives"]) == (20, 8), r
assert r["top_overlap"] == [{"rate": 0.01, "k": 1, "in_both": 1}, {"rate": 0.05, "k": 2, "in_both": 2},
                            {"rate": 0.1, "k": 3, "in_both": 2}], r["top_overlap"]
assert r["a"]["average_precision"] == 0.755682, r["a"]
assert r["a"]["at"][2] == {"rate": 0.1, "inspected": 2, "hits": 2, "precision": 1}, r["a"]
'
echo "analyst backtest / outcomes / diff: ok"
