#!/usr/bin/env bash
# registries_ledger.sh — documents as live ledgers, end to end with the real CLI
# (docs/registries.md): two consecutive days against the sample registries
# (feeds/samples/registries) and their document-check packs.
#  - day 2 raises exactly the expected permit, licence and consent alerts, with
#    the balance evidence (a permit and an HCFC quota used up across both days);
#  - harm figures in alerts (ODP / CO2e tonnes, CITES appendix, Basel code) and
#    their totals in summary.json, hand-computed;
#  - a re-run of day 2 gives byte-identical alerts and leaves the ledger as it was;
#    1 thread and 4 threads with tiny batches give the same alerts;
#  - ledger show / reset --year, the lock, bad registry files;
#  - 50 runs of a large day 2 killed (SIGKILL) at random points: the ledger is
#    always exactly the state before or after the run, and completing the run
#    afterwards always gives the same ledger — never a doubled or lost entry.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
E="${ECORISK_WRAP:-} $ECORISK"
R="$ECORISK_SRC/feeds/samples/registries"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

run() {  # feed-csv as-of out [extra]
  local feed=$1 asof=$2 out=$3; shift 3
  $E run --feed "$feed" --profiles "$R/profiles" --registry "$R" --ledger "$T/ledger" \
         --as-of "$asof" --out "$out" "$@" 2>"$out.log" || { cat "$out.log"; fail "run $out exited"; }
}
alerts() {  # alerts.jsonl → one line per alert, in file (risk) order: id profile score lane indicators evidence
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print("\t".join([a["declaration"]["id"], a["profile"]["id"], str(a["score"]), a["lane"],
                     ",".join(i["id"] for i in a["indicators"]), a["indicators"][0]["evidence"]]))
PY
}
alerts_by_id() {
  alerts "$1" | sort
}

run "$R/day1.csv" 2026-01-05 "$T/d1" --threads 2
cat > "$T/want1" <<'EOF'
D1-004	ods-licence-check	60	yellow	no-licence	no licence cited
EOF
alerts "$T/d1/alerts.jsonl" > "$T/got1"
diff "$T/want1" "$T/got1" || fail "day 1 alerts"
$E ledger show --ledger "$T/ledger" > "$T/show1"

run "$R/day2.csv" 2026-01-06 "$T/d2" --threads 2
cat > "$T/want2" <<'EOF'
D2-001	wildlife-permit-check	70	red	permit-exceeded	permit FR-24-0012: 30 of 50 kg already used; this declaration adds 25 kg
D2-003	ods-licence-check	70	red	licence-exceeded	licence NL-ODS-2026-017: 2026 quota 950 of 1000 kg already used; this declaration adds 100 kg
D2-004	wildlife-permit-check	80	red	permit-unknown	permit XX-00-9999: not in the registry
D2-005	wildlife-permit-check	60	yellow	permit-expired	permit ZA-25-0007: 0 of 10 kg already used; this declaration adds 4 kg (expired 2025-12-31)
D2-006	wildlife-permit-check	60	yellow	permit-mismatch	permit ID-26-0441: 0 of 200 pcs already used; this declaration adds 150 pcs (importer Leder Import Srl, document names Euro Leder GmbH)
D2-007	waste-consent-check	100	red	consent-mismatch,consent-exceeded	consent NL-BAS-2026-0031: 12000 of 20000 kg already used; this declaration adds 9000 kg (transit BE not consented)
D2-008	waste-consent-check	60	yellow	no-consent	no consent cited
D2-009	ods-licence-check	60	yellow	licence-mismatch	licence NL-HFC-2026-102: 2026 quota 0 of 5000 kg already used; this declaration adds 800 kg (importer Other Cooling BV, document names Frio Import BV)
D2-011	ods-licence-check	60	yellow	licence-expired	licence NL-HFC-2025-088: no quota for 2026
D2-012	ods-licence-check	100	red	licence-exhausted,licence-exceeded	licence NL-ODS-2026-017: 2026 quota 1050 of 1000 kg already used; this declaration adds 50 kg
EOF
alerts_by_id "$T/d2/alerts.jsonl" > "$T/got2"
diff "$T/want2" "$T/got2" || fail "day 2 alerts"

# Harm: D2-003 HCFC-22 (ODP 0.055, GWP 1810) 100 kg → 0.0055 ODP-t, 181 t CO2e; D2-009 HFC-32 (GWP 675)
# 800 kg → 540 t; D2-011 500 kg → 337.5 t; D2-012 50 kg → 0.00275 ODP-t, 90.5 t. Totals 0.00825, 1149.
python3 - "$T/d2" <<'PY' || fail "harm"
import json, sys
al = {json.loads(l)["declaration"]["id"]: json.loads(l) for l in open(sys.argv[1] + "/alerts.jsonl")}
h = al["D2-003"]["harm"]
assert h == {"substance": "HCFC-22", "odp_tonnes": 0.0055, "co2e_tonnes": 181}, h
assert al["D2-009"]["harm"]["co2e_tonnes"] == 540, al["D2-009"]["harm"]
assert al["D2-005"]["harm"] == {"cites_appendix": "I"}, al["D2-005"]["harm"]
assert al["D2-007"]["harm"] == {"basel_code": "A1180", "basel_annex": "VIII"}, al["D2-007"]["harm"]
assert al["D2-004"].get("harm") is None
assert al["D2-012"]["documents"]["licence"]["states"] == ["exhausted", "exceeded"]
s = json.load(open(sys.argv[1] + "/summary.json"))["registries"]
assert s["harm"]["ods_alerts_with_substance"] == 4, s
assert abs(s["harm"]["odp_tonnes"] - 0.00825) < 1e-12 and abs(s["harm"]["co2e_tonnes"] - 1149) < 1e-9, s
assert s["harm"]["wildlife_alerts_by_appendix"] == {"I": 1, "II": 2, "III": 0, "none": 1}, s
assert s["harm"]["waste_alerts_by_annex"] == {"I": 0, "II": 0, "VIII": 1, "IX": 0, "none": 1}, s
assert s["ledger"]["entries_before"] == 3 and s["ledger"]["entries_this_run"] == 9, s
assert (s["permits"], s["licences"], s["consents"], s["declarations_citing"]) == (3, 3, 1, 11), s
PY

grep -qx 'ecorisk_harm_tonnes{unit="co2e"} 1149' "$T/d2/metrics.prom" || fail "metrics: harm"
grep -qx 'ecorisk_ledger_entries{when="this_run"} 9' "$T/d2/metrics.prom" || fail "metrics: ledger entries"
$E ledger show --ledger "$T/ledger" --registry "$R" > "$T/show2"
cat > "$T/want-show2" <<'EOF'
kind	number	year	used	unit	limit	remaining	declarations
permit	FR-24-0012	0	55	kg	50	-5	2
permit	ID-26-0441	0	150	pcs	200	50	1
permit	ZA-25-0007	0	4	kg	10	6	1
licence	NL-HFC-2026-102	2026	1800	kg	5000	3200	2
licence	NL-ODS-2026-017	2026	1100	kg	1000	-100	4
consent	NL-BAS-2026-0031	0	21000	kg	20000	-1000	2
EOF
diff "$T/want-show2" "$T/show2" || fail "ledger show after day 2"

# Re-run of day 2: the same alerts byte for byte, the same ledger.
run "$R/day2.csv" 2026-01-06 "$T/d2b" --threads 1
cmp "$T/d2/alerts.jsonl" "$T/d2b/alerts.jsonl" || fail "re-run of day 2 changed the alerts"
$E ledger show --ledger "$T/ledger" --registry "$R" | diff "$T/want-show2" - || fail "re-run of day 2 changed the ledger"
run "$R/day2.csv" 2026-01-06 "$T/d2c" --threads 4 --batch-size 2
cmp "$T/d2/alerts.jsonl" "$T/d2c/alerts.jsonl" || fail "4 threads, batches of 2: other alerts"

# explain sees the balance the run saw (the declarations before it in feed order consumed).
$E explain --feed "$R/day2.csv" --profiles "$R/profiles" --registry "$R" --ledger "$T/ledger" --as-of 2026-01-06 \
   --id D2-012 > "$T/explain.json" 2>/dev/null || fail "explain"
python3 - "$T/explain.json" "$T/d2/alerts.jsonl" <<'PY' || fail "explain differs from the run"
import json, sys
e = json.load(open(sys.argv[1]))
run = [json.loads(l) for l in open(sys.argv[2]) if '"D2-012"' in l][0]
assert e["alert"]["indicators"] == run["indicators"], (e["alert"]["indicators"], run["indicators"])
assert e["declaration"]["licences"] == "NL-ODS-2026-017"
PY

# The same declarations under another run key (the feed given by another path) are not counted again.
cp "$R/day2.csv" "$T/day2-copy.csv"
run "$T/day2-copy.csv" 2026-01-06 "$T/d2d"
$E ledger show --ledger "$T/ledger" --registry "$R" | diff "$T/want-show2" - || fail "another key counted day 2 twice"
python3 -c "import json,sys; s=json.load(open('$T/d2d/summary.json'))['registries']['ledger']; assert s['already_counted']==9 and s['entries_this_run']==0, s" \
  || fail "already_counted"
# drop that extra key's (empty) file again
for f in "$T"/ledger/runs/*.tsv; do grep -q "^# end 0$" "$f" && rm "$f"; done

# Without --ledger: checks against this run only (day 2 alone: the permit is not exceeded).
$E run --feed "$R/day2.csv" --profiles "$R/profiles" --registry "$R" --as-of 2026-01-06 --out "$T/nl" 2>/dev/null
grep -q '"D2-001"' "$T/nl/alerts.jsonl" && fail "in-memory ledger saw day 1"
python3 -c "import json; s=json.load(open('$T/nl/summary.json'))['registries']['ledger']; assert not s['persistent'] and s['entries_before']==0, s" \
  || fail "summary of a run without --ledger"
# JSON Lines: document numbers as an array; an element that is not a string quarantines the record.
printf '%s\n' '{"id":"J1","date":"2026-01-06","flow":"EX","hs":"030192","net_kg":25,"permits":["XX-1","FR-24-0012"]}' \
  '{"id":"J2","date":"2026-01-06","flow":"EX","hs":"030192","net_kg":25,"permits":["XX-2",7]}' > "$T/j.jsonl"
$E run --feed "$T/j.jsonl" --profiles "$R/profiles" --registry "$R" --as-of 2026-01-06 --out "$T/j" \
   --max-quarantine-share 1 2>/dev/null
grep -q '"permits":"XX-1;FR-24-0012"' "$T/j/alerts.jsonl" || fail "JSONL permits array"
grep -q '"detail":"permits\[1\]: expected a document number (string)"' "$T/j/quarantine.jsonl" || fail "JSONL bad permit"
# Usage errors.
if $E run --feed "$R/day2.csv" --registry "$R" --ledger "$T/ledger" --out "$T/x" 2>"$T/err"; then fail "--ledger without --as-of"; fi
grep -q "needs --as-of" "$T/err" || fail "message for --ledger without --as-of"
mkdir "$T/badreg"
printf 'number,quantity,unit,valid_until\nP-1,5,kg,2026-13-01\n' > "$T/badreg/cites-permits.csv"
if $E run --feed "$R/day2.csv" --registry "$T/badreg" --out "$T/x" 2>"$T/err"; then fail "bad registry accepted"; fi
grep -q "cites-permits.csv:2: valid_until: '2026-13-01' is not a date" "$T/err" || { cat "$T/err"; fail "bad registry message"; }
# The lock: a second run while one holds the ledger.
python3 - "$T/ledger/lock" <<'PY' &
import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[1] + ".held", "w").close(); time.sleep(3)
PY
for _ in $(seq 50); do [ -e "$T/ledger/lock.held" ] && break; sleep 0.05; done
set +e
$E run --feed "$R/day2.csv" --profiles "$R/profiles" --registry "$R" --ledger "$T/ledger" --as-of 2026-01-06 --out "$T/y" 2>"$T/err"
rc=$?
set -e
wait
[ $rc = 75 ] && grep -q "in use by another run" "$T/err" || { cat "$T/err"; fail "lock: exit $rc"; }
rm -f "$T/ledger/lock.held"

# Kill test (the CLI run directly, never under $ECORISK_WRAP: 150 runs of 60k rows): a large day 2 (the planted day plus 60k generated declarations, every 5th citing the HFC
# licence), killed at random points 50 times.
"$ECORISK_BUILD/gen_declarations" -n 60000 --seed 5 --start 2026-01-06 --days 1 -o "$T/gen.csv"
awk -F, 'NR == 1 { print $0 ",permits,licences,consents"; next }
         { print $0 "," (NR % 5 == 0 ? ",NL-HFC-2026-102," : ",,") }' "$T/gen.csv" > "$T/big.csv"
cp -r "$T/ledger" "$T/ledger-day1"
rm "$T"/ledger-day1/runs/2026-01-06-*.tsv
big() {  # ledger-dir out
  "$ECORISK" run --feed "$R/day2.csv" --feed "$T/big.csv" --profiles "$R/profiles" --registry "$R" --ledger "$1" \
         --as-of 2026-01-06 --out "$2" --threads 2
}
rm -rf "$T/L" && cp -r "$T/ledger-day1" "$T/L"
big "$T/L" "$T/bigref" 2>/dev/null
"$ECORISK" ledger show --ledger "$T/L" > "$T/show-after"
"$ECORISK" ledger show --ledger "$T/ledger-day1" > "$T/show-before"
cmp -s "$T/show-before" "$T/show-after" && fail "the large day changed nothing"
start=$(date +%s%N); big "$T/L" "$T/bigtime" 2>/dev/null; ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -gt 0 ] || ms=1
before=0 after=0
for i in $(seq 50); do
  rm -rf "$T/L" "$T/k"
  cp -r "$T/ledger-day1" "$T/L"
  [ $((i % 2)) = 0 ] || big "$T/L" "$T/k0" 2>/dev/null   # odd tries: kill a re-run of a completed day
  delay=$(( (RANDOM * 32768 + RANDOM) % (ms + ms / 4 + 1) ))
  "$ECORISK" run --feed "$R/day2.csv" --feed "$T/big.csv" --profiles "$R/profiles" --registry "$R" --ledger "$T/L" \
         --as-of 2026-01-06 --out "$T/k" --threads 2 2>/dev/null &
  pid=$!
  sleep "$(printf '0.%03d' $((delay % 1000)))" ; [ "$delay" -ge 1000 ] && sleep $((delay / 1000))
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$ECORISK" ledger show --ledger "$T/L" > "$T/show-k" || fail "try $i: ledger unreadable after kill"
  if cmp -s "$T/show-k" "$T/show-before"; then before=$((before + 1))
  elif cmp -s "$T/show-k" "$T/show-after"; then after=$((after + 1))
  else diff "$T/show-before" "$T/show-k" | head; fail "try $i (delay ${delay} ms): ledger is neither before nor after"; fi
  big "$T/L" "$T/k2" 2>/dev/null || fail "try $i: completing the run failed"
  "$ECORISK" ledger show --ledger "$T/L" | cmp -s - "$T/show-after" || fail "try $i: completed ledger differs"
  cmp -s "$T/k2/alerts.jsonl" "$T/bigref/alerts.jsonl" || fail "try $i: completed run gave other alerts"
done
# Lane capacity by expected harm (score / 100 x CO2e tonnes): NLRTM imports keep one red alert
# (0.2 x 6 declarations); by risk D2-012 (score 100, risk 0.997, 90.5 t CO2e) keeps it, by harm
# D2-003 (0.7 x 181 t = 126.7 > 1.0 x 90.5); the other moves down to yellow.
for o in score harm; do
  rm -rf "$T/L" && cp -r "$T/ledger-day1" "$T/L"
  echo "{\"capacity_order\": \"$o\", \"rules\": [{\"office\": \"NLRTM\", \"flow\": \"IM\", \"red\": 0.2}]}" > "$T/cfg-$o.json"
  $E run --feed "$R/day2.csv" --profiles "$R/profiles" --registry "$R" --ledger "$T/L" --as-of 2026-01-06 \
         --config "$T/cfg-$o.json" --out "$T/cap-$o" 2>/dev/null || fail "run with capacity_order $o"
done
python3 - "$T/cap-score/alerts.jsonl" "$T/cap-harm/alerts.jsonl" <<'PY' || fail "capacity_order"
import json, sys
def lanes(p):
    return {a["declaration"]["id"]: a["lane"] for a in map(json.loads, open(p)) if a["domain"] == "ods"}
assert lanes(sys.argv[1]) == {"D2-003": "yellow", "D2-009": "yellow", "D2-011": "yellow", "D2-012": "red"}, lanes(sys.argv[1])
assert lanes(sys.argv[2]) == {"D2-003": "red", "D2-009": "yellow", "D2-011": "yellow", "D2-012": "yellow"}, lanes(sys.argv[2])
PY
echo '{"capacity_order": "tonnes", "rules": []}' > "$T/cfg-bad.json"
if "$ECORISK" run --feed "$R/day2.csv" --config "$T/cfg-bad.json" --out "$T/x" 2>"$T/err"; then fail "bad capacity_order"; fi
grep -q 'capacity_order: expected "score" or "harm"' "$T/err" || fail "capacity_order message"

echo "kill test: 50 tries over ${ms} ms runs; ledger found before the run $before times, after $after times"
echo "registries_ledger: ok"
