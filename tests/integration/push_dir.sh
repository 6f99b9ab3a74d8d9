#!/usr/bin/env bash
# push_dir.sh — the alert sink interface through `ecorisk push` and
# `run --push` with the directory sink (air-gapped hand-over) and the stdout
# sink: exact batch files named by their content hash, receipts naming the
# destination, idempotent re-delivery of a batch after a push killed between
# writing it and recording it (the batch back in pending/, a stale temporary
# file left), and a destination that cannot be written keeping all pending.
set -euo pipefail
E=${ECORISK:?}
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
check_eq() { [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"; }
cd "$T"

printf '{"alert_id":"a1","score":1}\n{"alert_id":"a2","score":2}\n\n{"alert_id":"a3","x":"\xc3\xa9"}\n' > al.jsonl
b1=bb02ff237411aaaeb0ac7363d53252b8c116307f1117e27c388fbfb07ec8e4a9.json
b2=f91b5f332c128e442de92d3e861bc3ad3791e86a0e1efb8bd04b8f62fe81b739.json
printf '[\n{"alert_id":"a1","score":1},\n{"alert_id":"a2","score":2}\n]\n' > want1
printf '[\n{"alert_id":"a3","x":"\xc3\xa9"}\n]\n' > want2

# --- dir:PATH: two batches, each a file named by the SHA-256 of its bytes
"$E" push --outbox ob --enqueue al.jsonl --batch 2 --endpoint dir:hand > s1.json 2> s1.err
grep -q '"delivered_batches":2,"delivered_alerts":3,"dead_batches":0,"dead_alerts":0,"pending_batches":0' s1.json ||
  fail "summary: $(cat s1.json)"
check_eq "$b1 $b2" "$(cd hand && ls | tr '\n' ' ' | sed 's/ $//')" "hand-over files"
cmp -s want1 "hand/$b1" || fail "batch 1 content: $(cat "hand/$b1")"
cmp -s want2 "hand/$b2" || fail "batch 2 content: $(cat "hand/$b2")"
check_eq "${b1%.json}" "$(sha256sum "hand/$b1" | cut -c1-64)" "name is the content hash"
check_eq 0 "$(ls ob/pending | wc -l)" "pending after delivery"
grep -q '"endpoint": "dir:hand"' "ob/sent/${b1%.json}.receipt.json" || fail "receipt: $(cat "ob/sent/${b1%.json}.receipt.json")"

# --- killed after writing batch 1 and before recording it: the batch is back
# in pending/ and a temporary file of an interrupted write is left; the next
# push writes the same file again, removes the leftover, changes nothing else
mv "ob/sent/$b1" ob/pending/
rm "ob/sent/${b1%.json}.receipt.json"
echo 'half a batch' > "hand/.$b1.tmp"
"$E" push --outbox ob --endpoint dir:hand > s2.json 2> s2.err
grep -q '"delivered_batches":1,"delivered_alerts":2,' s2.json || fail "re-delivery summary: $(cat s2.json)"
check_eq "$b1 $b2" "$(cd hand && ls -A | tr '\n' ' ' | sed 's/ $//')" "hand-over files after re-delivery"
cmp -s want1 "hand/$b1" || fail "batch 1 after re-delivery"
cmp -s want2 "hand/$b2" || fail "batch 2 after re-delivery"

# --- file://PATH is the same sink; a directory that cannot be written keeps all pending
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
  set +e
  "$E" push --outbox ob3 --enqueue al.jsonl --endpoint "file://$T/ro" > s3.json 2> s3.err
  rc=$?
  set -e
  check_eq 74 "$rc" "exit status, read-only hand-over directory ($(cat s3.err))"
  check_eq 1 "$(ls ob3/pending | wc -l)" "pending with an unwritable directory"
fi
"$E" push --outbox ob4 --enqueue al.jsonl --batch 2 --endpoint "file://$T/hand2" > /dev/null 2>&1
cmp -s want1 "hand2/$b1" && cmp -s want2 "hand2/$b2" || fail "file:// destination"

# --- "-": the batches on stdout, the summary on stderr
"$E" push --outbox ob5 --enqueue al.jsonl --batch 2 --endpoint - > out.txt 2> s5.err
cat want1 want2 > want_stdout
cmp -s want_stdout out.txt || fail "stdout sink: $(cat out.txt)"
grep -q '"delivered_batches":2,' s5.err || fail "stdout summary: $(cat s5.err)"

# --- run --push dir:PATH: the run's alerts handed over, byte for byte as in sent/
F="${ECORISK_SRC:?}/tests/fixtures/run"
"$E" run --feed "$F/day.csv" --as-of 2026-11-24 --out day --push "dir:$T/hand3" --batch 3 --max-quarantine-share 1 \
  > run.out 2> run.err || fail "run --push: $(tail -3 run.err)"
n=$(grep -c . day/alerts.jsonl || true)
[ "$n" -gt 3 ] || fail "the run gave $n alerts"
check_eq $(( (n + 2) / 3 )) "$(ls hand3 | wc -l)" "run --push batches"
check_eq 0 "$(ls outbox/pending | wc -l)" "run --push pending"
for f in hand3/*.json; do cmp -s "$f" "outbox/sent/$(basename "$f")" || fail "$f differs from sent/"; done
# the hand-over holds exactly the run's alerts, in order
"${PYTHON:-python3}" -c 'import json,sys,glob,os

got=set()
for f in glob.glob("hand3/*.json"):
    got.update(a["alert_id"] for a in json.load(open(f)))
want=[json.loads(l)["alert_id"] for l in open("day/alerts.jsonl") if l.strip()]
sys.exit(0 if got==set(want) and len(want)==len(got) else 1)' || fail "hand-over alerts differ from alerts.jsonl"
echo ok
