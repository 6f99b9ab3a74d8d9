#!/usr/bin/env bash
# ingest_conventions.sh — a mapping declares how its source writes things
# (docs/feeds.md#source-conventions): a semicolon-separated export with
# DD/MM/YYYY dates (and ISO dates mixed in), decimal commas and thousands dots
# is read exactly; a mapped optional column missing from the header is a
# warning naming it; a missing required column lists the header found; and a
# feed whose dates cannot be read makes `run` exit 3 instead of 0.
set -euo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
: "${ECORISK:?}" "${ECORISK_SRC:?}"
D="$ECORISK_SRC/tests/fixtures/feeds/eu"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

# A1 05/01/2026, net "1.234,5", value "10.000,00", a quoted description holding ';'
# A2 2026-01-06 (second format), net "12,5"; A3 31/02/2026 (no such day); A4 06/01/2026.
"$ECORISK" ingest --feed "$D/eu-export.csv" --mapping "$D/eu-export.json" --quarantine "$T/q.jsonl" \
    > "$T/out" 2> "$T/err" || fail "ingest exited $?: $(cat "$T/err")"
grep -q '^accepted: *3$' "$T/out" || fail "accepted: $(cat "$T/out")"
grep -q '^dates: *2026-01-05 .. 2026-01-06$' "$T/out" || fail "dates: $(cat "$T/out")"
[ "$(cat "$T/q.jsonl")" = "{\"file\":\"$D/eu-export.csv\",\"line\":4,\"seq\":2,\"reason\":\"bad_date\",\"field\":\"date\",\"detail\":\"date: '31/02/2026' matches none of the mapping's date formats (DD/MM/YYYY, YYYY-MM-DD)\",\"excerpt\":\"A3;31/02/2026;050790;x;NG;1;1\"}" ] \
    || fail "quarantine: $(cat "$T/q.jsonl")"
# the optional column typo ("Net Mas") is named, with the header found
grep -qF "warn: $D/eu-export.csv:1: column 'Net Mas' (mapped to gross_kg by mapping 'eu-export') is not in the header, so gross_kg is empty in every record; the header has: 'Ref', 'Datum', 'HS', 'Omschrijving', 'Herkomst', 'Netto', 'Waarde'" "$T/err" \
    || fail "optional column warning: $(cat "$T/err")"
# ...but the document columns a canonical feed may lack ("optional": true) are not
for m in "" canonical-csv; do
    "$ECORISK" ingest --feed "$ECORISK_SRC/feeds/samples/sample-day.csv" ${m:+--mapping $m} >/dev/null 2>"$T/err2" || true
    if grep -q 'not in the header' "$T/err2"; then fail "canonical feed (mapping '${m:-built-in}') warns: $(cat "$T/err2")"; fi
done

"$ECORISK" explain -q --feed "$D/eu-export.csv" --mapping "$D/eu-export.json" --id A1 > "$T/a1.json"
"$ECORISK" explain -q --feed "$D/eu-export.csv" --mapping "$D/eu-export.json" --id A2 > "$T/a2.json"
python3 - "$T/a1.json" "$T/a2.json" <<'PY'
import json, sys
a1 = json.load(open(sys.argv[1]))["declaration"]
a2 = json.load(open(sys.argv[2]))["declaration"]
assert (a1["date"], a1["net_kg"], a1["value"], a1["description"]) == ("2026-01-05", 1234.5, 10000, "Pangolin scales; dried"), a1
assert (a2["date"], a2["net_kg"], a2["value"]) == ("2026-01-06", 12.5, 100), a2
assert "gross_kg" not in a1, a1
PY

# a missing required column lists the header that was found
set +e
"$ECORISK" ingest --feed "$D/eu-export.csv" --mapping kcs-customs > /dev/null 2> "$T/err"; rc=$?
set -e
[ "$rc" -eq 65 ] || fail "kcs mapping on the EU export exited $rc"
grep -qF "missing required column 'Declaration ID' (mapped to id by mapping 'kcs-customs'); the header has: 'Ref;Datum;HS;Omschrijving;Herkomst;Netto;Waarde' (one column: if the file is separated by ';', say so with \"delimiter\" in the mapping)" "$T/err" \
    || fail "header list: $(cat "$T/err")"

# bad mapping conventions fail fast, naming the key
printf '{"fields": {"id": "Ref"}, "date_formats": ["DD/MM/YY"]}\n' > "$T/m1.json"
printf '{"fields": {"id": "Ref"}, "decimal": ","}\n' > "$T/m2.json"
printf '{"fields": {"id": "Ref"}, "delimiter": ":"}\n' > "$T/m3.json"
for m in m1 m2 m3; do
  set +e; "$ECORISK" ingest --feed "$D/eu-export.csv" --mapping "$T/$m.json" > /dev/null 2> "$T/$m.err"; rc=$?; set -e
  [ "$rc" -eq 65 ] || fail "$m exited $rc"
done
grep -qF "date_formats[0]: expected a pattern with YYYY, MM and DD once each" "$T/m1.err" || fail "m1: $(cat "$T/m1.err")"
grep -qF 'decimal: a decimal comma needs another delimiter (e.g. ";")' "$T/m2.err" || fail "m2: $(cat "$T/m2.err")"
grep -qF 'delimiter: expected ",", ";", "\t" (tab) or "|"' "$T/m3.err" || fail "m3: $(cat "$T/m3.err")"

# tab- and pipe-separated: the same three declarations
for d in tab pipe; do
  c=$([ $d = tab ] && printf '\t' || printf '|')
  sed "s/;/$c/g; s/\"Pangolin scales$c dried\"/\"Pangolin scales; dried\"/" "$D/eu-export.csv" > "$T/$d.csv"
  sed "s/\"delimiter\": \";\"/\"delimiter\": \"$([ $d = tab ] && printf '\\\\t' || printf '|')\"/" "$D/eu-export.json" > "$T/$d.json"
  "$ECORISK" ingest -q --feed "$T/$d.csv" --mapping "$T/$d.json" > "$T/$d.out" || fail "$d exited $?"
  grep -q '^accepted: *3$' "$T/$d.out" || fail "$d: $(cat "$T/$d.out")"
done

# ZZ / XX: quarantined as bad_country unless the mapping declares them unknown (then scored)
printf 'id,date,flow,hs,origin,destination,mode\nC1,2026-01-05,IM,050790,ZZ,NL,SEA\nC2,2026-01-05,IM,050790,xx,NL,SEA\n' > "$T/zz.csv"
"$ECORISK" ingest -q --feed "$T/zz.csv" > "$T/zz.out"
grep -q '^  bad_country *2$' "$T/zz.out" || fail "ZZ default: $(cat "$T/zz.out")"
printf '{"name": "zz", "format": "csv", "unknown_countries": ["ZZ", "XX"], "fields": {"id": "id", "date": "date", "flow": "flow", "hs": "hs", "origin": "origin", "destination": "destination", "mode": "mode"}}\n' > "$T/zz.json"
"$ECORISK" ingest -q --feed "$T/zz.csv" --mapping "$T/zz.json" > "$T/zz2.out"
grep -q '^accepted: *2$' "$T/zz2.out" || fail "ZZ declared unknown: $(cat "$T/zz2.out")"
"$ECORISK" explain -q --feed "$T/zz.csv" --mapping "$T/zz.json" --id C1 > "$T/c1.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['declaration']; assert 'origin' not in d and d['destination']=='NL', d" "$T/c1.json"

# without the mapping's date formats every row is quarantined: run warns and exits 3
printf 'id,date,flow,hs,origin,destination,mode\nB1,05/01/2026,IM,050790,NG,NL,SEA\nB2,06/01/2026,IM,050790,NG,NL,SEA\n' > "$T/dmy.csv"
set +e
"$ECORISK" run --feed "$T/dmy.csv" --out "$T/run" 2> "$T/run.err"; rc=$?
set -e
[ "$rc" -eq 3 ] || fail "run on an unreadable date format exited $rc"
grep -q 'warn: run [0-9a-f]*: 100.0% of the rows read were quarantined' "$T/run.err" || fail "run warning: $(cat "$T/run.err")"
echo ok
