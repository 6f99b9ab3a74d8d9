#!/usr/bin/env bash
# scale_out.sh — the scale-out recipe of docs/scaling.md, end to end, checked
# against one machine:
#   single:  baseline build over the whole history; run over the whole day
#   sharded: the history split in 3 shards, each built as a stream
#            (`baseline build --feed - --out -`), merged (`baseline merge`);
#            the day split in 3 shards, each run as a stream
#            (`run --feed - --out -`, as Hadoop Streaming or Spark RDD.pipe do)
# Checks: the merged baseline is byte-identical to the single build, and the
# union of the shards' alerts, put back in declaration order, is
# byte-identical to the single run's alerts — except declaration.line, which
# is the line in the stream that was read (a shard's line, by design).
# Env: ECORISK, ECORISK_SRC, ECORISK_WRAP (optional).
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}"
WRAP=${ECORISK_WRAP:-}
E() { $WRAP "$ECORISK" "$@"; }
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

# gen N SEED FIRST_DAY DAYS PREFIX: the deterministic synthetic feed of bench/gen_feed.awk.
gen() { gawk -v n="$1" -v seed="$2" -v d0="$3" -v days="$4" -v pfx="$5" -f "$ECORISK_SRC/bench/gen_feed.awk"; }
# split_csv FILE K PREFIX: K contiguous shards, each with the header.
split_csv() {
    local f=$1 k=$2 p=$3 rows per
    rows=$(($(wc -l <"$f") - 1))
    per=$(((rows + k - 1) / k))
    for ((s = 0; s < k; s++)); do
        { head -1 "$f"; tail -n +2 "$f" | sed -n "$((s * per + 1)),$(((s + 1) * per))p"; } >"$p$s.csv"
    done
}

n_hist=30000 n_day=6000
[ -z "$WRAP" ] || n_hist=6000 n_day=1200            # under valgrind: smaller, same checks
gen "$n_hist" 7 20000 365 H >"$T/history.csv"    # 2024-10-05 .. 2025-10-04
gen "$n_day" 11 20412 1 D >"$T/day.csv"          # 2025-11-20

# One machine.
E baseline build --feed "$T/history.csv" --out "$T/single.baseline.json" -q
E run --feed - --out - --baseline "$T/single.baseline.json" --as-of 2025-11-20 --threads 2 -q \
    <"$T/day.csv" >"$T/single.alerts.jsonl"
n_single=$(wc -l <"$T/single.alerts.jsonl")
[ "$n_single" -ge 50 ] || fail "the single run gave only $n_single alerts: the comparison would prove little"

# Shards: baselines built as streams and merged; the day run shard by shard as streams.
split_csv "$T/history.csv" 3 "$T/h"
split_csv "$T/day.csv" 3 "$T/d"
for s in 0 1 2; do
    E baseline build --feed - --out - -q <"$T/h$s.csv" >"$T/b$s.json"
done
E baseline merge "$T/b2.json" "$T/b0.json" "$T/b1.json" --out "$T/merged.baseline.json" -q
cmp -s "$T/merged.baseline.json" "$T/single.baseline.json" \
    || fail "merged shard baselines differ from the single build"
for s in 0 1 2; do
    E run --feed - --out - --baseline "$T/merged.baseline.json" --as-of 2025-11-20 --threads 2 -q \
        <"$T/d$s.csv" >"$T/a$s.jsonl"
done

# Union of the shards' alerts in declaration order vs the single run.
python3 - "$T/day.csv" "$T/single.alerts.jsonl" "$T"/a0.jsonl "$T"/a1.jsonl "$T"/a2.jsonl <<'EOF'
import csv, json, re, sys
order = {row["id"]: i for i, row in enumerate(csv.DictReader(open(sys.argv[1], newline="")))}
strip = re.compile(r',"line":[0-9]+')      # declaration.line: the line in the stream read
def load(path):
    out = []
    for raw in open(path, encoding="utf-8"):
        raw = raw.rstrip("\n")
        did = json.loads(raw)["declaration"]["id"]
        out.append((order[did], strip.sub("", raw, count=1)))
    return out
single = load(sys.argv[2])
union = [a for p in sys.argv[3:] for a in load(p)]
# each output is in risk order (docs/alerts.md); compare the sets in declaration order
risk = re.compile(r'"risk":([-0-9.eE+]+)')
def risk_ordered(path):
    keys = [(-float(risk.search(t).group(1)), k) for k, t in load(path)]
    return keys == sorted(keys)
assert all(risk_ordered(p) for p in sys.argv[2:]), "an output is not in risk order"
single.sort(key=lambda a: a[0])
union.sort(key=lambda a: a[0])          # stable: a declaration's alerts keep their order
if [t for _, t in union] != [t for _, t in single]:
    for i, (a, b) in enumerate(zip(union, single)):
        if a != b:
            sys.exit("first difference at alert %d:\n shards: %s\n single: %s" % (i, a[1][:300], b[1][:300]))
    sys.exit("alert counts differ: shards %d, single %d" % (len(union), len(single)))
print("scale_out: %d alerts, shards == single machine" % len(single))
EOF
