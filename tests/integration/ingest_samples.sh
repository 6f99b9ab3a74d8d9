#!/usr/bin/env bash
# ingest_samples.sh — `ecorisk ingest` on the bundled sample day: exact
# accounting for the CSV and the JSONL.gz copy, from a file, from stdin
# (plain and gzipped), a valid quarantine.jsonl, and byte-identical output
# on a second run.
set -euo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
E=${ECORISK:?} SRC=${ECORISK_SRC:?}
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
csv=$SRC/feeds/samples/declarations-2026-01-05.csv
jsonl=$SRC/feeds/samples/declarations-2026-01-05.jsonl.gz

check() {   # summary.json quarantine.jsonl expected-by-reason-json
  python3 - "$@" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
want = json.loads(sys.argv[3])
got = {k: v for k, v in summary["by_reason"].items() if v}
assert summary["rows_read"] == 207, summary
assert summary["accepted"] == 191, summary
assert summary["quarantined"] == 16, summary
assert summary["reconciled"] is True
assert got == want, (got, want)
assert summary["min_date"] == summary["max_date"] == "2026-01-05"
lines = open(sys.argv[2], encoding="utf-8").read().splitlines()
assert len(lines) == 16, len(lines)
seqs = []
for l in lines:
    q = json.loads(l)
    assert set(q) == {"file", "line", "seq", "reason", "field", "detail", "excerpt"}, q
    seqs.append(q["seq"])
assert seqs == sorted(seqs), seqs
PY
}

csv_reasons='{"syntax":1,"field_count":1,"missing_field":1,"bad_hs":1,"bad_date":1,"negative":3,"gross_lt_net":1,"bad_utf8":1,"bad_country":3,"bad_currency":1,"bad_mode":1,"duplicate_id":1}'
jsonl_reasons='{"syntax":3,"missing_field":1,"bad_hs":1,"bad_date":1,"negative":3,"gross_lt_net":1,"bad_country":3,"bad_currency":1,"bad_mode":1,"duplicate_id":1}'

"$E" ingest --feed "$csv" --quarantine "$T/q1.jsonl" --json > "$T/s1.json"
check "$T/s1.json" "$T/q1.jsonl" "$csv_reasons" || fail "csv sample"
"$E" ingest --feed "$jsonl" --quarantine "$T/q2.jsonl" --json > "$T/s2.json"
check "$T/s2.json" "$T/q2.jsonl" "$jsonl_reasons" || fail "jsonl.gz sample"
grep -q '"format":"jsonl","mapping":"canonical-jsonl"' "$T/s2.json" || fail "jsonl format detection"

# text summary
"$E" ingest --feed "$csv" > "$T/text.txt"
grep -qx 'reconciled:   read 207 = accepted 191 + quarantined 16' "$T/text.txt" || fail "text summary: $(cat "$T/text.txt")"
grep -qx '  negative       3' "$T/text.txt" || fail "text summary reasons"

# stdin, plain and gzipped; --format given or sniffed
"$E" ingest --feed - --quarantine "$T/q3.jsonl" --json < "$csv" > "$T/s3.json"
sed 's/"file":"-"/"file":"X"/' "$T/q3.jsonl" > "$T/q3x.jsonl"
sed "s|\"file\":\"$csv\"|\"file\":\"X\"|" "$T/q1.jsonl" > "$T/q1x.jsonl"
cmp "$T/q1x.jsonl" "$T/q3x.jsonl" || fail "stdin quarantine differs from file quarantine"
gzip -dc "$jsonl" | "$E" ingest --feed - --format jsonl --json > "$T/s4.json"
grep -q '"rows_read":207,"accepted":191,"quarantined":16' "$T/s4.json" || fail "jsonl via stdin"
gzip -c "$csv" | "$E" ingest --feed - --json > "$T/s5.json"
grep -q '"format":"csv"' "$T/s5.json" && grep -q '"rows_read":207,"accepted":191,"quarantined":16' "$T/s5.json" \
  || fail "gzipped csv via stdin: $(cat "$T/s5.json")"

# determinism
"$E" ingest --feed "$csv" --quarantine "$T/q6.jsonl" --json > "$T/s6.json"
cmp "$T/q1.jsonl" "$T/q6.jsonl" || fail "quarantine not deterministic"
cmp "$T/s1.json" "$T/s6.json" || fail "summary not deterministic"
echo "ok"
