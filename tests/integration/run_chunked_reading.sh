#!/usr/bin/env bash
# run_chunked_reading.sh — the daily run reads CSV feeds in chunks (the reading
# thread cuts whole records, workers parse them, batches are settled in feed
# order: docs/feeds.md, "Reading on several threads"). On a hostile day split
# over a CSV, a JSON Lines and a gzipped CSV feed (fields spanning lines, stray
# and unclosed quotes, blank and CRLF lines, duplicate ids, invalid records),
# asserts that:
#   - every run gives the same bytes whatever --threads (1, 2, 4) and
#     --batch-size (3, 64, 8192): alerts, quarantine, scores, and summary and
#     metrics but for the run's timings;
#   - each feed's quarantine records and counts are those of `ecorisk ingest`,
#     which reads with er_feed_next, one record after the other.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
E="${ECORISK_WRAP:-} $ECORISK"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

"$ECORISK_BUILD/gen_declarations" -n 20000 --seed 5 --start 2026-05-01 --days 150 -o "$T/hist.csv"
$E baseline build --feed "$T/hist.csv" --out "$T/baseline.bin" 2>/dev/null
"$ECORISK_BUILD/gen_declarations" -n 6000 --seed 9 --start 2026-11-24 --invalid-rate 0.02 -o "$T/day.csv"

# The day in three feeds, with hostile records woven into the CSV ones.
$PY - "$T/day.csv" "$T" <<'PY'
import csv, io, json, random, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, newline="").read().split("\n")
header, rows = lines[0], [l for l in lines[1:] if l]
rnd = random.Random(3)
def hostile(r, k):
    f = next(csv.reader([r]))
    kind = k % 9
    if kind == 0: f[7] = f[7] + "\nsecond line of the description"        # a field spanning lines
    elif kind == 1: return r.replace(",", ",bad\"quote", 1) if "\"" not in r else r   # stray quote
    elif kind == 2: f[7] = "a \"quoted\" word, and a comma"                # escaped quotes
    elif kind == 3: return r + "\r"                                        # CRLF line end
    elif kind == 4: return "\n" + r                                        # a blank line before
    elif kind == 5: f[0] = rows[max(0, k - 40)].split(",")[0]              # duplicate id
    elif kind == 6: f[7] = f[7] + "\r\nand a CRLF inside"                  # CRLF inside quotes
    elif kind == 7: return r + ",one,field,too,many"                       # field count
    else: f[7] = "\"\"starts with quotes\"\" and ends\n\n"                 # blank lines inside quotes
    s = io.StringIO(); csv.writer(s, lineterminator="").writerow(f); return s.getvalue()
def write_csv(path, part):
    with open(path, "w", newline="") as w:
        w.write(header + "\n")
        for i, r in enumerate(part):
            w.write((hostile(r, i) if rnd.random() < 0.08 else r) + "\n")
a, b, c = rows[:2500], rows[2500:4000], rows[4000:]
write_csv(out + "/a.csv", a)
write_csv(out + "/c.csv", c)
# the last CSV ends inside a quoted field that never closes
with open(out + "/c.csv", "a", newline="") as w:
    w.write("Z1,2026-11-24,IM,DCL0000,IMP000001,EXP000001,392390,\"never closed,GB,GB,NL,,SEA,NLRTM,1,2,,KGM,3,USD,1,\n")
cols = header.split(",")
with open(out + "/b.jsonl", "w") as w:
    for r in csv.reader(b):
        w.write(json.dumps(dict(zip(cols, r))) + "\n")
PY
gzip -n "$T/c.csv"

run() {  # out-dir threads batch-size
  $E run --feed "$T/a.csv" --feed "$T/b.jsonl" --feed "$T/c.csv.gz" --baseline "$T/baseline.bin" \
         --as-of 2026-11-24 --threads "$2" --batch-size "$3" --all-scores --max-quarantine-share 0.5 \
         --out "$1" 2>"$1.log" || { cat "$1.log"; fail "run --threads $2 --batch-size $3 exited $?"; }
}
run "$T/ref" 1 8192
for tb in "2 8192" "4 3" "1 3" "2 64"; do
  set -- $tb
  run "$T/o-$1-$2" "$1" "$2"
  for f in alerts.jsonl quarantine.jsonl scores.csv; do
    cmp -s "$T/ref/$f" "$T/o-$1-$2/$f" || { diff "$T/ref/$f" "$T/o-$1-$2/$f" | head -c 2000 >&2
                                           fail "$f differs with --threads $1 --batch-size $2"; }
  done
  for f in summary.json metrics.prom; do   # the same but for how long the run took
    diff <(grep -v -e timings -e '"metrics.prom"' -e _seconds "$T/ref/$f") \
         <(grep -v -e timings -e '"metrics.prom"' -e _seconds "$T/o-$1-$2/$f") >&2 \
      || fail "$f differs with --threads $1 --batch-size $2"
  done
done

# Each feed's quarantine and counts as ingest reads them, record after record.
for f in a.csv b.jsonl c.csv.gz; do
  $E ingest --feed "$T/$f" --quarantine "$T/q-$f.jsonl" --json > "$T/i-$f.json" 2>/dev/null \
    || fail "ingest $f exited $?"
done
$PY - "$T" <<'PY'
import json, sys
t = sys.argv[1]
feeds = ["a.csv", "b.jsonl", "c.csv.gz"]
run_q = [json.loads(l) for l in open(t + "/ref/quarantine.jsonl")]
ing_q = []
for f in feeds:
    ing_q += [json.loads(l) for l in open("%s/q-%s.jsonl" % (t, f))]
key = lambda q: (q["file"].rsplit("/", 1)[-1], q["line"], q["seq"], q["reason"], q.get("field"), q["detail"], q["excerpt"])
assert [key(q) for q in run_q] == [key(q) for q in ing_q], "run's quarantine differs from ingest's"
reasons = {}
for q in run_q:
    reasons[q["reason"]] = reasons.get(q["reason"], 0) + 1
for r in ("syntax", "duplicate_id", "field_count"):
    assert reasons.get(r, 0) > 0, "the hostile day has no %s record: %s" % (r, reasons)
s = json.load(open(t + "/ref/summary.json"))
read = acc = 0
by_reason = {}
for f in feeds:
    i = json.load(open("%s/i-%s.json" % (t, f)))
    assert i["reconciled"] is True
    read += i["rows_read"]; acc += i["accepted"]
    for r, n in i["by_reason"].items():
        by_reason[r] = by_reason.get(r, 0) + n
assert (s["rows"]["read"], s["rows"]["accepted"]) == (read, acc), (s["rows"], read, acc)
assert s["quarantined_by_reason"] == {r: n for r, n in by_reason.items() if n}, (s["quarantined_by_reason"], by_reason)
assert s["rows"]["reconciled"] is True
PY
echo "ok"
