#!/usr/bin/env bash
# ingest_readers.sh — readers never lose a feed silently: CR-only line ends
# and header names with control characters or repeated are refused (exit 65,
# with the reason) instead of 0 rows and exit 0; a JSON Lines number is read
# from its text exactly as the same text in a CSV cell or JSON string (beyond
# 2^64 keeps its digits, 400 digits is bad_number, not 1.8e19); a NUL byte in
# a quarantined record is escaped in the excerpt, not where it stops.
set -euo pipefail
: "${ECORISK:?}"
E="${ECORISK_WRAP:-} $ECORISK"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
cd "$T"

expect65() {  # name grep-pattern  (feed on stdin)
  local rc=0
  $E ingest --feed - > out 2> err || rc=$?
  [ "$rc" -eq 65 ] || fail "$1: exit $rc, expected 65"
  grep -q "$2" err || fail "$1: message: $(cat err)"
}
printf 'id,date,hs,net_kg\rA1,2026-11-20,010690,5\rA2,2026-11-20,010690,6\r' | expect65 "CR-only" "bare CR"
printf 'id,date,hs,net_kg,id\nA1,2026-11-20,010690,5,x\n' | expect65 "repeated name" "'id' appears twice"
printf 'id,date,hs,"net\nkg"\nA1,2026-11-20,010690,5\n' | expect65 "control character" "control character 0x0a"
# CRLF stays fine
printf 'id,date,hs,net_kg\r\nA1,2026-11-20,010690,5\r\n' | $E ingest --feed - --json 2>/dev/null | grep -q '"accepted":1' ||
  fail "CRLF feed"

# JSON numbers from their text: the same outcome as the text in a JSON string.
big=$(printf '9%.0s' $(seq 1 400))
for v in 18446744073709551616 "$big" 99999999999999999999999 -9223372036854775809 12.5 7; do
  for form in "$v" "\"$v\""; do
    printf '{"id":"A1","date":"2026-11-20","hs":"010690","net_kg":%s}\n' "$form" > f.jsonl
    rm -f q.jsonl
    $E ingest --feed f.jsonl --quarantine q.jsonl --json > s.json 2>/dev/null
    python3 - "$form" <<'PY' >> outcomes
import json, sys
s = json.load(open("s.json"))
q = [json.loads(l) for l in open("q.jsonl")]
print(sys.argv[1].strip('"')[:24], s["accepted"], q[0]["reason"] if q else "-")
PY
  done
done
# each value: number and string forms give the same line
[ "$(sort outcomes | uniq | wc -l)" -eq 6 ] || fail "number and string forms differ: $(sort outcomes)"
grep -q "^99999999.* 0 bad_number" outcomes || fail "400-digit integer accepted: $(cat outcomes)"
grep -q "^18446744073709551616 1 -" outcomes || fail "2^64: $(cat outcomes)"

# NUL byte in a quarantined record: escaped in the excerpt, the rest kept.
printf 'id,date,hs,net_kg\nA1,2026-11-20,010690,5\000XYZ\n' > n.csv
$E ingest --feed n.csv --quarantine q.jsonl > /dev/null 2>&1
grep -q '"excerpt":"A1,2026-11-20,010690,5\\u0000XYZ"' q.jsonl || fail "NUL excerpt: $(cat q.jsonl)"
echo "ingest_readers: ok"
