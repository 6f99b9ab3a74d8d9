#!/usr/bin/env bash
# ingest_bad_inputs.sh — a real published CSV with an RFC 4180 error
# (shared/data/bad-inputs: unescaped quotes inside a quoted field on line
# 5351): that record alone is quarantined as a syntax error naming its line,
# and every other record is read (accounting exact, same counts as the
# corrected file apart from that record).
set -euo pipefail
E=${ECORISK:?} SRC=${ECORISK_SRC:?} DATA=${ECORISK_SHARED_DATA:?}
bad=$DATA/bad-inputs/harmonized-system-2022_at-4287990_unescaped-quote-line5351.csv
good=$DATA/hs/harmonized-system.csv
if [ ! -f "$bad" ]; then echo "bad-inputs not present: skipped"; exit 77; fi
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
map=$SRC/tests/fixtures/feeds/hs-nomenclature.json

"$E" ingest --feed "$bad" --mapping "$map" --quarantine "$T/q.jsonl" --json > "$T/bad.json"
"$E" ingest --feed "$good" --mapping "$map" --json > "$T/good.json"
python3 - "$T/bad.json" "$T/good.json" "$T/q.jsonl" <<'PY'
import json, sys
bad, good = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# 6,940 records: 97 chapters + 1,229 headings (2/4 digits: bad_hs) + 5,613 subheadings + TOTAL
assert good["rows_read"] == 6940, good
assert good["accepted"] == 5613, good
assert good["by_reason"]["bad_hs"] == 1327, good
assert bad["rows_read"] == 6940, bad
assert bad["accepted"] == 5612, bad
assert bad["by_reason"]["syntax"] == 1 and bad["by_reason"]["bad_hs"] == 1327, bad
assert bad["rows_read"] == bad["accepted"] + bad["quarantined"]
syn = [json.loads(l) for l in open(sys.argv[3]) if '"reason":"syntax"' in l]
assert len(syn) == 1 and syn[0]["line"] == 5351, syn
assert syn[0]["excerpt"].startswith("XVI,841510,"), syn
assert "quotes inside a field must be doubled" in syn[0]["detail"], syn
PY
echo "ok"
