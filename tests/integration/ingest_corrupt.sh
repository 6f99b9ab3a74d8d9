#!/usr/bin/env bash
# ingest_corrupt.sh — randomly corrupted feeds (seeded): truncated lines,
# stray quotes, binary garbage (NUL, CR, invalid UTF-8), 1 MB and >1 MiB
# fields, a quote left open, a file cut mid-line; CSV and JSON Lines. Every
# run must finish with exit 0 and exact accounting: read = accepted +
# quarantined, one valid JSON quarantine line per quarantined record, in feed
# order. Where the corruption keeps records on their lines (JSONL line cuts,
# CSV garbage without quotes or line breaks), rows read must equal the
# non-blank lines counted independently.
set -euo pipefail
E=${ECORISK:?} B=${ECORISK_BUILD:?}
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
"$B/gen_declarations" -n 3000 --seed 5 --invalid-rate 0.01 -o "$T/base.csv"
"$B/gen_declarations" -n 3000 --seed 5 --invalid-rate 0.01 --format jsonl -o "$T/base.jsonl"

python3 - "$T" <<'PY'
import random, sys
tmp = sys.argv[1]
base = {"csv": open(f"{tmp}/base.csv", "rb").read(), "jsonl": open(f"{tmp}/base.jsonl", "rb").read()}

def truncate_lines(r, data):
    lines = data.split(b"\n")
    for i in r.sample(range(0, len(lines) - 1), 60):
        lines[i] = lines[i][: r.randrange(0, max(1, len(lines[i])))]
    return b"\n".join(lines)

def stray_quotes(r, data):
    b = bytearray(data)
    for _ in range(80):
        b.insert(r.randrange(len(b)), ord('"'))
    return bytes(b)

def garbage(r, data):
    b = bytearray(data)
    for _ in range(40):
        p = r.randrange(len(b))
        b[p:p + r.randrange(1, 30)] = bytes(r.randrange(256) for _ in range(r.randrange(1, 30)))
    return bytes(b)

def garbage_no_lines(r, data):   # keeps line structure: no \n, \r or quotes injected
    b = bytearray(data)
    pool = [c for c in range(256) if c not in (10, 13, 34)]
    for _ in range(40):
        p = r.randrange(len(b))
        if b[p] in (10, 13, 34):
            continue
        b[p] = r.choice(pool)
    return bytes(b)

def big_fields(r, data):
    lines = data.split(b"\n")
    for i in r.sample(range(1, len(lines) - 1), 3):
        lines[i] = lines[i].replace(b",", b"," + bytes(r.choice(b"abc ,\"") for _ in range(1_000_000)) + b",", 1)
    i = r.randrange(1, len(lines) - 1)
    lines[i] = lines[i] + b"x" * (1_200_000)
    return b"\n".join(lines)

def open_quote(r, data):
    lines = data.split(b"\n")
    i = len(lines) - 40
    lines[i] = lines[i][:20] + b'"' + lines[i][20:]
    return b"\n".join(lines)

def cut(r, data):
    return data[: r.randrange(len(data) // 2, len(data) - 10)]

def mixed(r, data):
    for f in (truncate_lines, stray_quotes, garbage, open_quote, cut):
        data = f(r, data)
    return data

ops = [truncate_lines, stray_quotes, garbage, garbage_no_lines, big_fields, open_quote, cut, mixed]
with open(f"{tmp}/cases.txt", "w") as idx:
    for fmt in ("csv", "jsonl"):
        for op in ops:
            for seed in range(1 if op is big_fields else 2):
                r = random.Random(f"{fmt}-{op.__name__}-{seed}")
                if fmt == "csv":   # a broken header is a whole-file error (tested elsewhere)
                    head, body = base[fmt].split(b"\n", 1)
                    out = head + b"\n" + op(r, body)
                else:
                    out = op(r, base[fmt])
                name = f"{tmp}/{op.__name__}-{seed}.{fmt}"
                open(name, "wb").write(out)
                # independent count where lines stay intact
                lines = None
                if op is garbage_no_lines or (op is truncate_lines and fmt == "jsonl"):
                    ls = out.split(b"\n")
                    if ls and ls[-1] == b"":
                        ls = ls[:-1]
                    lines = sum(1 for l in ls if l.rstrip(b"\r") != b"") - (1 if fmt == "csv" else 0)
                idx.write(f"{name} {lines if lines is not None else '-'}\n")
PY

n=0
while read -r feed lines; do
  rc=0
  "$E" ingest --feed "$feed" --quarantine "$feed.q" --json > "$feed.s" 2> "$feed.err" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "FAIL: $feed: exit $rc: $(cat "$feed.err")" >&2; exit 1; fi
  n=$((n + 1))
done < "$T/cases.txt"

python3 - "$T/cases.txt" <<'PY'
import json, sys
for case in open(sys.argv[1]):
    name, count = case.split()
    s = json.load(open(name + ".s"))
    assert s["reconciled"] is True, (name, s)
    assert s["rows_read"] == s["accepted"] + s["quarantined"], (name, s)
    assert sum(s["by_reason"].values()) == s["quarantined"], (name, s)
    text = open(name + ".q", "rb").read().decode("utf-8")   # must be valid UTF-8
    qs = [json.loads(l) for l in text.splitlines()]
    assert len(qs) == s["quarantined"], (name, len(qs), s)
    seqs = [q["seq"] for q in qs]
    assert seqs == sorted(set(seqs)), name
    assert all(0 <= x < s["rows_read"] for x in seqs), name
    lines = [q["line"] for q in qs]
    assert lines == sorted(lines), name
    if count != "-":
        assert s["rows_read"] == int(count), (name, s["rows_read"], count)
    if "big_fields" in name:
        assert s["by_reason"]["too_long"] >= 1, (name, s)
PY
echo "ok: $n corrupted feeds accounted for exactly"
