#!/usr/bin/env bash
# validity_dates.sh — profile validity is judged on the declaration date, never
# on the wall clock (docs/profiles.md#validity): with the clock set past every
# shipped review date (faketime) the nightly run still scores and writes
# everything, and history from a year before the shipped packs' authoring is
# scored and backtested exactly like the current year's.
set -euo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
: "${ECORISK:?}" "${ECORISK_SRC:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
command -v faketime >/dev/null || { echo "faketime not installed (docker/install-deps.sh)"; exit 77; }
# libfaketime's clock interposition deadlocks in AddressSanitizer's start-up, so
# the sanitizer build skips this test; the gcc build (and valgrind stage) runs it.
if grep -q '^ECORISK_SANITIZE:BOOL=ON' "${ECORISK_BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
    echo "validity_dates: skipped in the sanitizer build (faketime and ASan do not mix)"; exit 77
fi
S="$ECORISK_SRC/feeds/samples"
sed '2,$s/,2026-01-05,/,2024-01-05,/' "$S/sample-day.csv" > "$T/2024.csv"
grep -q ',2024-01-05,' "$T/2024.csv" || fail "fixture"

"$ECORISK" run -q --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --out "$T/now"
want=$(wc -l < "$T/now/alerts.jsonl")
[ "$want" -gt 0 ] || fail "no alerts on the sample day"

# wall clock in 2028 (after the shipped review_by 2027-12-31): exit 0, same alerts
faketime '2028-03-01 00:00:00' "$ECORISK" run -q --feed "$S/sample-day.csv" --baseline "$S/baseline.json" \
    --out "$T/later" || fail "run in 2028 exited $?"
[ "$(wc -l < "$T/later/alerts.jsonl")" -eq "$want" ] || fail "2028 run: $(wc -l < "$T/later/alerts.jsonl") alerts, expected $want"

# 2024 declarations with the shipped packs, clock in 2028: the same declarations alert
faketime '2028-03-01 00:00:00' "$ECORISK" run -q --feed "$T/2024.csv" --baseline "$S/baseline.json" --out "$T/old"
ids() { sed -n 's/.*"declaration":{"id":"\([^"]*\)".*/\1/p' "$1" | sort; }
[ "$(ids "$T/old/alerts.jsonl")" = "$(ids "$T/now/alerts.jsonl")" ] || fail "2024 feed alerts differ from 2026"

# backtest over 2024 with the shipped packs: same ranking metrics as over 2026
F="$ECORISK_SRC/tests/fixtures/analyst"
sed '2,$s/,2026-\([0-9][0-9]\)-/,2024-\1-/' "$F/labelled.csv" > "$T/labelled-2024.csv"
"$ECORISK" backtest -q --feed "$F/labelled.csv" --label-field seized --target-rate 0.4 --out "$T/bt-2026.json" > /dev/null
faketime '2028-03-01 00:00:00' "$ECORISK" backtest -q --feed "$T/labelled-2024.csv" --label-field seized \
    --target-rate 0.4 --out "$T/bt-2024.json" > /dev/null
python3 - "$T/bt-2026.json" "$T/bt-2024.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def strip(d):   # everything but the inputs' names and dates
    if isinstance(d, dict):
        return {k: strip(v) for k, v in d.items() if k not in ("feeds", "feed", "since", "until", "dates", "date_range", "created", "month")}
    if isinstance(d, list):
        return [strip(v) for v in d]
    return d
assert strip(a) == strip(b), "backtest over 2024 differs from 2026"
PY

# a pack whose window ended: declarations after it are out of scope, the run goes on
cat > "$T/ended.json" <<'JSON'
{"format": "ecorisk-profiles/1", "domain": "wildlife", "profiles": [
 {"id": "t-ended", "version": 1, "title": "Ended", "owner": "tests", "valid_until": "2025-06-30",
  "references": ["test"], "scope": {"field": "hs", "prefix": ["27", "85"]},
  "indicators": [{"id": "any", "weight": 60, "reason": "any", "when": {"field": "hs", "prefix": ["27", "85"]}}],
  "alert_threshold": 50, "lanes": {"red": 70, "yellow": 50, "blue": 30}}]}
JSON
"$ECORISK" run -q --feed "$S/sample-day.csv" --profiles "$T/ended.json" --out "$T/ended" 2> "$T/err" \
    || fail "run with an ended pack exited $?: $(cat "$T/err")"
[ ! -s "$T/ended/alerts.jsonl" ] || fail "an ended profile alerted on 2026 declarations"
"$ECORISK" run -q --feed "$T/2024.csv" --profiles "$T/ended.json" --out "$T/ended24"
[ -s "$T/ended24/alerts.jsonl" ] || fail "the ended profile did not score 2024 declarations"
# counted and reported: every declaration the window kept out (here each would alert: 60 >= 50)
n24=$(wc -l < "$T/ended24/alerts.jsonl")
grep -q "\"out_of_window\": {\"t-ended\": $n24}," "$T/ended/summary.json" \
    || fail "summary out_of_window: $(grep out_of_window "$T/ended/summary.json"), expected $n24"
grep -q '"out_of_window": {},' "$T/ended24/summary.json" || fail "2024: $(grep out_of_window "$T/ended24/summary.json")"
echo ok
