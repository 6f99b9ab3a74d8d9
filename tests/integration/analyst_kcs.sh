#!/usr/bin/env bash
# analyst_kcs.sh — the worked session of docs/analysts.md on the Korea Customs
# labelled data set (shared/data/customs-declarations): baseline on 2020,
# backtest of the shipped packs and of profiles/examples/generic-fraud.json,
# tune on 2021 Q1 and test on Q2. Asserts the figures the documentation
# quotes; if a change to scoring moves them, update docs/analysts.md with it.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_SHARED_DATA:?}"
DATA="$ECORISK_SHARED_DATA/customs-declarations"
if [ ! -f "$DATA/df_syn_test_eng.csv" ]; then
    echo "analyst_kcs: $DATA/df_syn_*_eng.csv not found (shared data set missing): skipped" >&2
    exit 77
fi
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
G="$ECORISK_SRC/profiles/examples/generic-fraud.json"
KCS=(--mapping kcs-customs --label-field Fraud --baseline "$T/baseline.json")

"$ECORISK" baseline build --feed "$DATA/df_syn_train_eng.csv" --mapping kcs-customs --out "$T/baseline.json" 2> /dev/null
for q in valid test; do
    "$ECORISK" backtest --feed "$DATA/df_syn_${q}_eng.csv" "${KCS[@]}" --out "$T/shipped-$q.json" > /dev/null
    "$ECORISK" backtest --feed "$DATA/df_syn_${q}_eng.csv" "${KCS[@]}" --profiles "$G" --out "$T/generic-$q.json" > /dev/null
done
"$ECORISK" tune --feed "$DATA/df_syn_valid_eng.csv" --feed "$DATA/df_syn_test_eng.csv" "${KCS[@]}" --profiles "$G" \
    --split-date 2021-04-01 --out "$T/tuned.json" --report "$T/tune.json" > /dev/null
"$ECORISK" profile lint "$T/tuned.json" 2> /dev/null
# the tuned pack's points, ranked by backtest on Q2 (docs/analysts.md: "ranked by its points")
"$ECORISK" backtest --feed "$DATA/df_syn_test_eng.csv" "${KCS[@]}" --profiles "$T/tuned.json" --out "$T/tuned-test.json" > /dev/null

python3 - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
def at(f):
    d = json.load(open(f"{t}/{f}.json"))
    return d, {a["rate"]: (a["hits"], a["inspected"]) for a in d["ranking"]["at"]}
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append(f"{what}: got {got}, docs/analysts.md says {exp}")
d, r = at("shipped-test")
want("test labelled/positives", (d["declarations"]["labelled"], d["declarations"]["positives"]), (8476, 1835))
want("shipped packs in scope (test)", d["overall"]["in_scope"], 952)
want("shipped packs at 1 % / 5 % (test)", (r[0.01], r[0.05]), ((7, 85), (66, 424)))
d, r = at("shipped-valid")
want("shipped packs at 1 % / 5 % (valid)", (r[0.01], r[0.05]), ((8, 82), (50, 407)))
d, r = at("generic-test")
want("example pack at 1 % / 5 % (test)", (r[0.01], r[0.05]), ((14, 85), (98, 424)))
d, r = at("generic-valid")
want("example pack at 1 % / 5 % (valid)", (r[0.01], r[0.05]), ((15, 82), (94, 407)))
d, r = at("tuned-test")
want("tuned pack by points at 1 % / 5 % (test)", (r[0.01], r[0.05]), ((17, 85), (110, 424)))
tune = json.load(open(f"{t}/tune.json"))
# tune ranks by risk (docs/scoring.md §6) at 1 %, 5 % and 10 %
for k, exp in (("original", ((18, 85), (105, 424), (192, 848))), ("tuned", ((26, 85), (109, 424), (205, 848))),
               ("model", ((19, 85), (112, 424), (206, 848)))):
    got = tuple((a["hits"], a["inspected"]) for a in tune["test"][k])
    want(f"tune test period, {k}", got, exp)
w = {i["id"]: i["tuned_weight"] for i in tune["profiles"][0]["indicators"]}
want("tuned weights", (w["multivariate-outlier"], w["rare-route"], w["unit-value-very-low"], w["new-importer"]),
     (41, 69, 0, 20))
if bad:
    sys.exit("\n".join(bad))
EOF
echo "analyst worked session on the KCS data: figures as documented"
