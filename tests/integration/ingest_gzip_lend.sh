#!/usr/bin/env bash
# ingest_gzip_lend.sh — a gzipped feed is inflated on its own thread and each
# inflated chunk is lent to the reader in place, the unread tail of the chunk
# before copied in front of it; a tail over 64 KiB goes back through the
# reader's own buffer (feeds/src/source.c, src_lend). On a day of 30,000
# records with long records placed across chunk boundaries (70 KB, 100 KB with
# a quoted line break, 300 KB, and 1.5 MiB over the record limit), asserts
# that the gzipped feed reads exactly as the plain one — the summary, every
# quarantine record with its line, and the run's alerts — for one gzip member
# and for several, and for a semicolon-separated feed (bytes swapped in the
# lent chunks).
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
E="${ECORISK_WRAP:-} $ECORISK"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
cd "$T"

"$ECORISK_BUILD/gen_declarations" -n 20000 --seed 61 --start 2026-06-01 --days 100 -o hist.csv
$E baseline build --feed hist.csv --out bl.bin -q
"$ECORISK_BUILD/gen_declarations" -n 30000 --seed 62 --start 2026-09-10 -o gen.csv
$PY - <<'EOF'
import csv
rows = list(csv.reader(open("gen.csv", newline="")))
head, body = rows[0], rows[1:]
d = head.index("description")
def long(i, n, text):
    body[i][d] = (text * (n // len(text) + 1))[:n]
long(5000, 100_000, "ivory carvings\nand tusks ")   # quoted, spans two lines
long(12000, 70_000, "pangolin scales ")
long(20000, 1_600_000, "x")                         # over the 1 MiB record limit
long(25000, 300_000, "R-22 refrigerant ")
long(29990, 80_000, "waste batteries ")             # near the end of the input
# every 1 MiB boundary of the inflated stream (where chunks meet) falls inside a
# long description: alternately 100-150 KB after its record's start (the tail
# goes back through the reader's buffer) and 10-60 KB after it (lent)
import io
MiB, at, k, long_rows, quotes = 1 << 20, 0, 0, {5000, 12000, 20000, 25000, 29990}, []
def size(row):
    b = io.StringIO()
    csv.writer(b, lineterminator="\n").writerow(row)
    return len(b.getvalue().encode())
at = size(head)
for i, row in enumerate(body):
    nxt = (at // MiB + 1) * MiB
    lo, hi = ((100_000, 150_000) if k % 2 == 0 else (10_000, 60_000))
    if lo < nxt - at < hi:
        # the description's closing quote is the last byte before the boundary:
        # a tail byte lost or stale between chunks unbalances the quotes
        n = nxt - 1 - (at + len(",".join(row[:d])) + 2)
        row[d] = "".join("\n" if j % 61 == 60 else chr(97 + (j * 7 + k * 3) % 26) for j in range(n))
        k += 1
        long_rows.add(i)
        quotes.append(nxt - 1)
    at += size(row)
for name, delim in (("day.csv", ","), ("day.ssv", ";")):
    with open(name, "w", newline="") as f:
        w = csv.writer(f, delimiter=delim, lineterminator="\n")
        w.writerow(head)
        w.writerows(body)
assert k >= 6, k
data = open("day.csv", "rb").read()
assert all(data[q:q + 2] == b'",' for q in quotes), "a closing quote is not the last byte before a boundary"
open("long_rows.txt", "w").write(" ".join(map(str, sorted(long_rows))))
EOF
sed 's/"format": "csv",/"format": "csv", "delimiter": ";",/' "$ECORISK_SRC/feeds/mappings/canonical-csv.json" > ssv.json
grep -q '"delimiter": ";"' ssv.json || fail "no semicolon mapping"
gzip -n -c day.csv > day.csv.gz
gzip -n -c day.ssv > day.ssv.gz
# several members, split inside a record
split -n 3 day.csv part.
for p in part.aa part.ab part.ac; do gzip -n -c "$p"; done > members.csv.gz
[ "$(gzip -dc members.csv.gz | cmp - day.csv && echo same)" = same ] || fail "the multi-member file is not the day"

# ingest: summary and quarantine as for the plain file (the feed's name aside)
ingest() { # feed tag [mapping]
  local m=()
  [ -z "${3:-}" ] || m=(--mapping "$3")
  $E ingest --feed "$1" "${m[@]}" --quarantine "q-$2.jsonl" --json > "s-$2.json" ||
      fail "ingest $1 failed"
  sed -i "s#$1#FEED#g" "q-$2.jsonl" "s-$2.json"
}
ingest day.csv plain
ingest day.csv.gz gz
ingest members.csv.gz members
ingest day.ssv ssv ssv.json
ingest day.ssv.gz ssvgz ssv.json
for t in gz members; do
  cmp "s-plain.json" "s-$t.json" || fail "$t: summary differs: $(diff s-plain.json "s-$t.json" | head -5)"
  cmp "q-plain.jsonl" "q-$t.jsonl" || fail "$t: quarantine differs"
done
cmp s-ssv.json s-ssvgz.json || fail "semicolon gzip: summary differs: $(diff s-ssv.json s-ssvgz.json | head -5)"
cmp q-ssv.jsonl q-ssvgz.jsonl || fail "semicolon gzip: quarantine differs"
# the long records were read, not skipped: each is quarantined, the one over the record limit as such
$PY - <<'EOF' || fail "long records not accounted for"
import json
s = json.load(open("s-plain.json"))
q = [json.loads(l) for l in open("q-plain.jsonl")]
rows = s.get("rows_read", s.get("rows"))
assert rows == 30000, s
want = [int(x) for x in open("long_rows.txt").read().split()]
assert s["quarantined"] == len(want) and s["by_reason"]["too_long"] == len(want), s
over = [r for r in q if r["seq"] == 20000]
assert over and over[0]["detail"] == "line longer than the record limit", over
# the 100 KB description holds line breaks: the records after it keep their physical lines
assert [r["seq"] for r in q] == want, ([r["seq"] for r in q], want)
EOF

# run: the same alerts from the plain and the gzipped feed, on 2 threads
for f in day.csv day.csv.gz members.csv.gz; do
  $E run --feed "$f" --baseline bl.bin --threads 2 --out "run-$f" -q || fail "run $f failed"
done
# (the run id names the feed file; everything else is equal)
for f in day.csv day.csv.gz members.csv.gz; do
  sed 's/"run_id":"[0-9a-f]*"/"run_id":""/' "run-$f/alerts.jsonl" > "alerts-$f"
done
cmp alerts-day.csv alerts-day.csv.gz || fail "run: gzip alerts differ"
cmp alerts-day.csv alerts-members.csv.gz || fail "run: multi-member alerts differ"
[ "$(grep -c run_id alerts-day.csv)" -gt 10 ] || fail "run: too few alerts"
echo "gzip lending: plain, gzip, multi-member and semicolon feeds read alike ($(wc -l < q-plain.jsonl) quarantined)"
