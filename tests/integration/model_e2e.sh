#!/usr/bin/env bash
# model_e2e.sh — the learned model end to end on generated labelled days
# (docs/scoring.md §7, docs/analysts.md "The outcome loop"): learn on one
# day, backtest --model on a later day (the model must beat the packs' risk
# ranking), run --model (risk = probability, alerts carry contributions that
# add up to their log-odds), explain --model, diff --model (packs against a
# model, a model against itself, two models: each side's ranking is exactly
# the one backtest reports), and a model refused with other packs (exit 65,
# both profile-set ids named).
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
G=("$ECORISK_BUILD/gen_declarations" --anomaly-rate 0 --illicit-rate 0.02)
"${G[@]}" -n 60000 --seed 40 --start 2026-09-01 --days 30 -o "$T/hist.csv"
"${G[@]}" -n 20000 --seed 41 --start 2026-10-05 -o "$T/train.csv"
"${G[@]}" -n 20000 --seed 42 --start 2026-10-08 -o "$T/day.csv"
"$ECORISK" baseline build --feed "$T/hist.csv" --out "$T/bl.json" -q
"$ECORISK" learn --feed "$T/train.csv" --label-field illicit --baseline "$T/bl.json" --out "$T/model.json" \
    --eta 0.2 --report "$T/learn.json" > "$T/learn.txt"
grep -q "Learned from 20000 labelled declarations" "$T/learn.txt"
"$ECORISK" backtest --feed "$T/day.csv" --label-field illicit --baseline "$T/bl.json" --model "$T/model.json" \
    --out "$T/bt.json" > /dev/null
"$ECORISK" run --feed "$T/day.csv" --baseline "$T/bl.json" --model "$T/model.json" --all-scores --out "$T/run" -q
# with random controls: the alerts carry SHAP values, the controls topped up from the candidates path attributions
echo '{"rules":[{"office":"*","flow":"*","min_random_rate":0.02}]}' > "$T/controls.json"
"$ECORISK" run --feed "$T/day.csv" --baseline "$T/bl.json" --model "$T/model.json" --config "$T/controls.json" \
    --out "$T/run-controls" -q
python3 - "$T/run-controls/alerts.jsonl" <<'EOF'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
methods = {}   # top-ups are picked after the run from the candidates; the rest alerted while scored
for a in alerts:
    kind = "topup" if a.get("selection") == "random_topup" else "alert"
    methods.setdefault(kind, set()).add(a["model"]["method"])
assert methods.get("alert") == {"shap"} and methods.get("topup") == {"path"}, methods
EOF
id=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['declaration']['id'])" \
     "$T/run/alerts.jsonl" 2>/dev/null || head -2 "$T/day.csv" | tail -1 | cut -d, -f1)
"$ECORISK" explain --feed "$T/day.csv" --baseline "$T/bl.json" --model "$T/model.json" --id "$id" > "$T/explain.json"
"$ECORISK" learn --feed "$T/train.csv" --label-field illicit --baseline "$T/bl.json" --out "$T/model2.json" \
    --eta 0.2 --without net_kg --without value > /dev/null
"$ECORISK" backtest --feed "$T/day.csv" --label-field illicit --baseline "$T/bl.json" --model "$T/model2.json" \
    --out "$T/bt2.json" > /dev/null
D=("$ECORISK" diff --feed "$T/day.csv" --label-field illicit --baseline "$T/bl.json")
"${D[@]}" --against-model "$T/model.json" --out "$T/diff_pm.json" > /dev/null
"${D[@]}" --against-model "$T/model.json" > "$T/diff_pm.txt"
"${D[@]}" --model "$T/model.json" --against-model "$T/model.json" --out "$T/diff_mm.json" > /dev/null
"${D[@]}" --model "$T/model.json" --against-model "$T/model2.json" --out "$T/diff_m2.json" > /dev/null
mid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['id'][:16])" "$T/model.json")
grep -qF "Ranking by risk (A: packs' risk; B: model $mid), top of A and B in common: top 1%: " "$T/diff_pm.txt" ||
    { echo "diff --against-model: ranking header missing" >&2; exit 1; }
set +e
"$ECORISK" backtest --feed "$T/day.csv" --label-field illicit --baseline "$T/bl.json" --model "$T/model.json" \
    --profiles "$ECORISK_SRC/profiles/wildlife.json" > /dev/null 2> "$T/refused.txt"
rc=$?
set -e
[ "$rc" = 65 ] || { echo "model with other packs: exit $rc, expected 65" >&2; exit 1; }
python3 - "$T" <<'PY'
import csv, json, math, sys
t = sys.argv[1]
bad = []
bt = json.load(open(f"{t}/bt.json"))
m = bt["model"]
if not m["average_precision"] > m["packs_risk_average_precision"]:
    bad.append(f"model AP {m['average_precision']} not above the packs' risk AP {m['packs_risk_average_precision']}")
model = json.load(open(f"{t}/model.json"))
for k in ("id", "ecorisk_version", "xgboost_version", "profile_set", "baseline_id", "features", "validation", "booster"):
    if k not in model:
        bad.append(f"model file lacks {k}")
if model["id"] != m["id"]:
    bad.append("backtest names another model id")
alerts = [json.loads(l) for l in open(f"{t}/run/alerts.jsonl")]
if not alerts:
    bad.append("run --model emitted no alert")
risks = [a["risk"] for a in alerts]
if risks != sorted(risks, reverse=True):
    bad.append("alerts.jsonl not in descending model probability")
for a in alerts:
    mo = a["model"]
    if abs(mo["probability"] - a["risk"]) > 1e-6 or "profile_risk" not in a:
        bad.append(f"alert {a['declaration']['id']}: risk {a['risk']} is not the model probability {mo['probability']}")
        break
    if mo.get("method") != "shap":
        bad.append(f"alert {a['declaration']['id']}: method {mo.get('method')}")
        break
    if not 1 <= len(mo["contributions"]) <= 5 or not all(c["words"] for c in mo["contributions"]):
        bad.append(f"alert {a['declaration']['id']}: contributions {mo['contributions']}")
        break
ex = json.load(open(f"{t}/explain.json"))["model"]
s = ex["bias"] + sum(c["contribution"] for c in ex["contributions"])
if abs(s - ex["log_odds"]) > 1e-3:
    bad.append(f"explain: contributions + bias {s} != log-odds {ex['log_odds']}")
with open(f"{t}/run/scores.csv") as f:
    rows = list(csv.DictReader(f))
if len(rows) != 20000 or not all(0 <= float(r["risk"]) <= 1 for r in rows):
    bad.append("scores.csv: one probability per declaration expected")
# diff --model: each side ranks exactly as backtest ranks it
def side(d, k):
    r = d["risk_ranking"][k]
    return r["average_precision"], [(a["inspected"], a["hits"]) for a in r["at"]]
def bt_at(b, rates=(0.01, 0.05, 0.1)):
    return [(a["inspected"], a["hits"]) for a in b["model"]["at"] if a["rate"] in rates]
bt2 = json.load(open(f"{t}/bt2.json"))
pm, mm, m2 = (json.load(open(f"{t}/diff_{n}.json")) for n in ("pm", "mm", "m2"))
ks = [200, 1000, 2000]
if pm["a"]["model"] is not None or pm["b"]["model"] != model["id"]:
    bad.append(f"diff --against-model: models {pm['a']['model']} / {pm['b']['model']}")
if side(pm, "b") != (m["average_precision"], bt_at(bt)):
    bad.append(f"diff --against-model: B {side(pm, 'b')} is not backtest --model's {m['average_precision']} {bt_at(bt)}")
if pm["risk_ranking"]["a"]["average_precision"] != m["packs_risk_average_precision"]:
    bad.append("diff --against-model: A is not the packs' risk ranking of backtest")
if pm["alerts"]["gained"] or pm["alerts"]["lost"] or pm["alerts"]["unchanged"] != pm["alerts"]["a"]:
    bad.append(f"diff --against-model: the alerts changed {pm['alerts']}")
if [o["in_both"] for o in mm["risk_ranking"]["top_overlap"]] != ks or side(mm, "a") != side(mm, "b"):
    bad.append(f"diff, a model against itself: {mm['risk_ranking']}")
if side(m2, "a") != side(pm, "b") or side(m2, "b") != (bt2["model"]["average_precision"], bt_at(bt2)):
    bad.append(f"diff, two models: {side(m2, 'a')} {side(m2, 'b')}")
if [o["k"] for o in m2["risk_ranking"]["top_overlap"]] != ks or \
        not all(o["in_both"] < o["k"] for o in m2["risk_ranking"]["top_overlap"]):
    bad.append(f"diff, two models: overlap {m2['risk_ranking']['top_overlap']}")
ref = open(f"{t}/refused.txt").read()
if model["profile_set"] not in ref:
    bad.append(f"refusal does not name the model's profile set: {ref}")
if bad:
    sys.exit("\n".join(bad))
PY
echo "learned model: learn, backtest, run, explain and diff --model as documented"
