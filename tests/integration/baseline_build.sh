#!/usr/bin/env bash
# baseline_build.sh — `ecorisk baseline build / merge / show` end to end on
# the KCS synthetic customs declarations (shared/data/customs-declarations):
# a build is byte-identical when repeated and when read from stdin, merging
# builds of 2, 3 and 7 shards in any order gives the whole build byte for
# byte, show prints the groups of a code, and bad inputs fail with the
# documented exit code and a message naming the file and JSON path.
set -euo pipefail
E=${ECORISK:?ECORISK not set}
DATA=${ECORISK_SHARED_DATA:-${ECORISK_SRC:?}/../shared/data}/customs-declarations/df_syn_train_eng.csv
if [ ! -f "$DATA" ]; then echo "baseline_build: $DATA not found (shared data set missing): skipped" >&2; exit 77; fi
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

# 1. whole build, quarantine accounted, deterministic
"$E" baseline build -q --feed "$DATA" --mapping kcs-customs --quarantine "$T/q.jsonl" --out "$T/whole.json"
"$E" baseline build -q --feed "$DATA" --mapping kcs-customs --out "$T/again.json"
cmp "$T/whole.json" "$T/again.json" || fail "two builds of the same history differ"
records=$(($(wc -l < "$DATA") - 1))
quarantined=$(wc -l < "$T/q.jsonl")
rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$T/whole.json")
[ "$rows" -eq $((records - quarantined)) ] || fail "rows $rows != records $records - quarantined $quarantined"
[ "$quarantined" -eq 27 ] || fail "expected the 27 quarantined records of this file, got $quarantined"

# 2. stdin feed and stdout output give the same bytes
"$E" baseline build -q --feed - --mapping kcs-customs --out - < "$DATA" > "$T/stdin.json"
cmp "$T/whole.json" "$T/stdin.json" || fail "stdin/stdout build differs"

# a FIFO as --out is written in place (never replaced by a rename)
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/fifo.json" &
"$E" baseline build -q --feed "$DATA" --mapping kcs-customs --out "$T/fifo"
wait
[ -p "$T/fifo" ] || fail "--out FIFO was replaced"
cmp "$T/whole.json" "$T/fifo.json" || fail "FIFO output differs"

# 3. shards (the file has no quoted fields: one record per line)
for k in 2 3 7; do
  mkdir -p "$T/s$k"
  awk -v k="$k" -v dir="$T/s$k" 'NR == 1 { h = $0; next }
      { f = sprintf("%s/part%d.csv", dir, (NR - 2) % k); if (!(f in seen)) { print h > f; seen[f] = 1 } print > f }' "$DATA"
  parts=()
  for p in "$T/s$k"/part*.csv; do
    "$E" baseline build -q --feed "$p" --mapping kcs-customs --out "${p%.csv}.json"
    parts+=("${p%.csv}.json")
  done
  "$E" baseline merge -q "${parts[@]}" --out "$T/m$k.json"
  cmp "$T/whole.json" "$T/m$k.json" || fail "merge of $k shards differs from the whole build"
  rev=()
  for ((i = ${#parts[@]} - 1; i >= 0; i--)); do rev+=("${parts[$i]}"); done
  "$E" baseline merge -q "${rev[@]}" --out "$T/r$k.json"
  cmp "$T/whole.json" "$T/r$k.json" || fail "reversed merge of $k shards differs"
done
# several feeds in one build equal the whole, too
"$E" baseline build -q --feed "$T/s3/part0.csv" --feed "$T/s3/part1.csv" --feed "$T/s3/part2.csv" \
  --mapping kcs-customs --out "$T/multi.json"
cmp "$T/whole.json" "$T/multi.json" || fail "multi-feed build differs"
# merge of merges
"$E" baseline merge -q "$T/s7/part0.json" "$T/s7/part1.json" "$T/s7/part2.json" --out "$T/left.json"
"$E" baseline merge -q "$T/s7/part3.json" "$T/s7/part4.json" "$T/s7/part5.json" "$T/s7/part6.json" --out "$T/right.json"
"$E" baseline merge -q "$T/right.json" "$T/left.json" --out "$T/tree.json"
cmp "$T/whole.json" "$T/tree.json" || fail "merge of merges differs"

# 4. show: text and JSON
"$E" baseline show --baseline "$T/whole.json" --hs 4408.90 > "$T/show.txt"
grep -q '^HS 440890: unit value judged against level hs2$' "$T/show.txt" || fail "show: level line"
grep -q '^hs6 440890: 13 declarations, 13 with a unit value' "$T/show.txt" || fail "show: hs6 group"
grep -q '^hs2 44: 424 declarations' "$T/show.txt" || fail "show: hs2 group"
grep -q 'CN -> KR' "$T/show.txt" || fail "show: routes"
"$E" baseline show --baseline "$T/whole.json" --hs 440890 --json > "$T/show.json"
python3 - "$T/show.json" "$T/whole.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert s["baseline"]["id"] == b["id"], "id"
assert [g["level"] for g in s["groups"]] == ["hs6", "hs4", "hs2", "all"], s["groups"]
assert s["groups"][0]["rows"] == 13 and s["unit_value_level"] == "hs2"
g2 = s["groups"][2]
assert g2["traders"]["importer_rows"] == 424
assert g2["routes"]["top"][0] == {"origin": "CN", "destination": "KR", "count": 165}
EOF

# 5. errors
set +e
head -c 5000 "$T/whole.json" > "$T/trunc.json"
"$E" baseline show --baseline "$T/trunc.json" --hs 440890 2> "$T/err"; rc=$?
[ $rc -eq 65 ] || fail "truncated baseline: exit $rc, expected 65"
grep -q 'trunc.json' "$T/err" || fail "truncated baseline: message lacks the file name"
sed 's/"format":3,/"format":99,/' "$T/whole.json" > "$T/v99.json"
"$E" baseline merge "$T/whole.json" "$T/v99.json" --out "$T/x.json" 2> "$T/err"; rc=$?
[ $rc -eq 65 ] || fail "version mismatch: exit $rc"
grep -q 'v99.json: \$.format: baseline format 99, this ecorisk reads format 3' "$T/err" || fail "version message: $(cat "$T/err")"
[ ! -e "$T/x.json" ] || fail "failed merge left an output file"
"$E" baseline build -q --feed "$T/s2/part0.csv" --mapping kcs-customs --min-group 10 --out "$T/mg10.json"
"$E" baseline merge "$T/s2/part1.json" "$T/mg10.json" --out "$T/x.json" 2> "$T/err"; rc=$?
[ $rc -eq 65 ] || fail "min_group mismatch: exit $rc"
"$E" baseline show --baseline "$T/nope.json" --hs 4408 2> "$T/err"; rc=$?
[ $rc -eq 66 ] || fail "missing baseline: exit $rc"
"$E" baseline build --feed "$T/nope.csv" --out "$T/x.json" 2> /dev/null; rc=$?
[ $rc -eq 66 ] || fail "missing feed: exit $rc"
"$E" baseline build --feed "$DATA" 2> /dev/null; rc=$?
[ $rc -eq 64 ] || fail "missing --out: exit $rc"
"$E" baseline show --baseline "$T/whole.json" --hs 44x 2> /dev/null; rc=$?
[ $rc -eq 64 ] || fail "bad --hs: exit $rc"
set -e
echo "ok"
