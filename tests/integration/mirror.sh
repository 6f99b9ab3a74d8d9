#!/usr/bin/env bash
# mirror.sh — `ecorisk mirror` on the sample export (NL) and import (MY) feeds of
# feeds/samples/registries: container and attribute matching, the date window
# (a second trip of the same container two months later is not the import of
# the first), and each finding — waste exported as waste but imported as goods,
# goods imported as waste with another HS chapter, mass, value, importer — and
# an export never imported. Exact expected findings and counts; exit code 1 with
# findings, 0 without.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}"
E="${ECORISK_WRAP:-} $ECORISK"
R="$ECORISK_SRC/feeds/samples/registries"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

set +e
$E mirror --exports "$R/mirror-exports-NL.csv" --imports "$R/mirror-imports-MY.csv" --out "$T/m.jsonl" 2>"$T/log"
rc=$?
set -e
[ $rc = 1 ] || { cat "$T/log"; fail "exit $rc, want 1 (findings)"; }
python3 - "$T/m.jsonl" <<'PY' || fail "findings"
import json, sys
got = [(r["export_id"], r.get("import_id"), r.get("matched_by"), r["findings"]) for r in map(json.loads, open(sys.argv[1]))]
want = [("NL-E2", "MY-I2", "container", ["waste_as_goods"]),
        ("NL-E4", "MY-I4", "container", ["mass"]),
        ("NL-E5", "MY-I5", "container", ["value"]),
        ("NL-E6", "MY-I6", "container", ["importer"]),
        ("NL-E7", None, None, ["no_import"]),
        ("NL-E8", "MY-I8", "container", ["hs_chapter", "goods_as_waste", "value"])]
assert got == want, got
PY
grep -q "8 exports, 8 imports; matched 6 by container, 1 by HS4/countries/mass/date; 1 unmatched; 5 pairs disagree" "$T/log" \
  || { cat "$T/log"; fail "summary line"; }
# A wider window pairs the second trip of the container with the unmatched export.
set +e
$E mirror --exports "$R/mirror-exports-NL.csv" --imports "$R/mirror-imports-MY.csv" --window 120 --out "$T/w.jsonl" 2>/dev/null
set -e
grep -q '"NL-E7"' "$T/w.jsonl" && fail "--window 120 still leaves NL-E7 unmatched"
# A tighter mass tolerance unpairs the attribute match (10000 kg vs 10400 kg: 3.8%).
set +e
$E mirror --exports "$R/mirror-exports-NL.csv" --imports "$R/mirror-imports-MY.csv" --mass-tolerance 0.03 --out "$T/t.jsonl" 2>/dev/null
set -e
grep -q '"export_id":"NL-E3","findings":\["no_import"\]' "$T/t.jsonl" || fail "--mass-tolerance 0.03"
# Nothing to report: exit 0.
head -2 "$R/mirror-exports-NL.csv" > "$T/e1.csv"
$E mirror --exports "$T/e1.csv" --imports "$R/mirror-imports-MY.csv" --out "$T/z.jsonl" 2>/dev/null || fail "clean pair exit"
[ ! -s "$T/z.jsonl" ] || fail "clean pair reported"
if $E mirror --exports "$T/e1.csv" 2>/dev/null; then fail "missing --imports accepted"; fi
echo "mirror: ok"
