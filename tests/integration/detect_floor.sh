#!/usr/bin/env bash
# detect_floor.sh — ranking quality cannot regress unnoticed: the detection
# benchmark (bench/detect.sh, docs/scoring.md "Detection benchmark") on the
# small generated day (50,000 rows, 300,000 history rows over 60 days) must
# keep recall at 1% inspection and average precision at or above the floors
# below. The generator is deterministic, so the day and its labels are exact.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

# FLOORS: set a little under what the ranking measures today on this day
# (recall@1% 0.801, AP 0.675 with the reviewed packs, ranked by risk;
# docs/scoring.md section 5). Raise them whenever the ranking improves; never lower
# them to make a change pass.
FLOOR_RECALL_AT_1=0.77
FLOOR_AP=0.64

cd "$ECORISK_SRC"
# the expected-value arithmetic under ties, by hand: scores 2,1,1,0 with the
# 2nd and 4th row illicit. Orders of the tied pair: (b,c) gives AP (1/2+2/4)/2
# = 1/2, (c,b) gives (1/3+2/4)/2 = 5/12: expected 11/24. With k = 2 rows
# (50% of 4) the pair straddles k: half a positive is expected in the top 2.
python3 - <<'PY'
import sys
sys.path.insert(0, "bench")
import detect_eval as de
de.FRACS = (0.25, 0.5)
where, nblk = de.blocks([2.0, 1.0, 1.0, 0.0])
assert nblk == 3 and where == [(0, 1), (1, 2), (1, 2), (3, 1)], where
m = de.evaluate(where, [1, 3], 4, de.harmonic(4))
assert abs(m["ap"] - 11 / 24) < 1e-12, m
assert m["recall_at_25"] == 0.0 and abs(m["recall_at_50"] - 0.25) < 1e-12, m
assert abs(m["precision_at_50"] - 0.25) < 1e-12, m
PY
SMALL=1 BENCH_OUT="$T" ECORISK_BUILD="$ECORISK_BUILD" ECORISK="$ECORISK" bench/detect.sh > "$T/out" 2>&1 \
  || { cat "$T/out"; fail "bench/detect.sh exited $?"; }
python3 - "$T/detect.json" "$FLOOR_RECALL_AT_1" "$FLOOR_AP" <<'PY' || { cat "$T/out"; exit 1; }
import json, sys
d = json.load(open(sys.argv[1]))
floor_r, floor_ap = float(sys.argv[2]), float(sys.argv[3])
assert d["rows"] == 50000 and d["illicit"] == 272, (d["rows"], d["illicit"])
r = d["results"]
o = r["ecorisk"]["overall"]
print("ecorisk recall@1%% %.3f (floor %.2f), AP %.3f (floor %.2f)" % (o["recall_at_1"], floor_r, o["ap"], floor_ap))
assert o["recall_at_1"] >= floor_r, "recall at 1%% inspection %.3f fell below the floor %.2f" % (o["recall_at_1"], floor_r)
assert o["ap"] >= floor_ap, "average precision %.3f fell below the floor %.2f" % (o["ap"], floor_ap)
# the references are computed on the same day: the watch-list alone is a
# fixed, known figure of the generator (it ranks by code only)
w = r["hs-watch-list"]["overall"]
assert 0 < w["recall_at_10"] < 1, w
for name in r:
    for k, m in r[name].items():
        for key, v in m.items():
            if key.startswith(("recall", "precision", "ap")):
                assert 0.0 <= v <= 1.0 + 1e-9, (name, k, key, v)
PY
