#!/usr/bin/env bash
# ingest_errors.sh — whole-feed problems stop `ecorisk ingest` with a clear
# message on stderr and the documented exit code (docs/feeds.md).
set -uo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
E=${ECORISK:?} SRC=${ECORISK_SRC:?}
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
sample=$SRC/feeds/samples/declarations-2026-01-05.csv

expect() {   # code message-fragment args...
  local code=$1 msg=$2
  shift 2
  "$E" ingest "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "ingest $*: exit $rc, expected $code ($(cat "$T/err"))"
  grep -qF -- "$msg" "$T/err" || fail "ingest $*: message '$(cat "$T/err")' lacks '$msg'"
  [ ! -s "$T/out" ] || fail "ingest $*: printed a summary on failure"
}

printf '' > "$T/empty.csv"
printf 'id,date\nA,2026-01-05\n' > "$T/nohs.csv"
printf '{"fields": {"id": 1}}' > "$T/badmap.json"
head -c 3000 < <(gzip -c "$sample") > "$T/trunc.csv.gz"

expect 64 "--feed is required"
expect 64 "--format expects csv, jsonl or auto, got 'xml'" --feed "$sample" --format xml
expect 64 "--since expects a date YYYY-MM-DD, got '2026-13-01'" --feed "$sample" --since 2026-13-01
expect 64 "plain http is only accepted for loopback test servers" --feed http://example.com/day.csv
expect 64 "--since is after --until" --feed "$sample" --since 2026-02-01 --until 2026-01-01
expect 64 "unknown option --colour" --feed "$sample" --colour
expect 66 "/nonexistent.csv: cannot open: No such file or directory" --feed /nonexistent.csv
expect 66 "unknown mapping 'nope'" --feed "$sample" --mapping nope
expect 66 "/nonexistent/countries.csv: cannot open" --feed "$sample" --reference /nonexistent
expect 65 "fields.id: expected a column name" --feed "$sample" --mapping "$T/badmap.json"
expect 65 "empty feed (no header row)" --feed "$T/empty.csv"
expect 65 "nohs.csv:1: missing required column 'hs' (mapped to hs by mapping 'canonical-csv')" --feed "$T/nohs.csv"
expect 65 "missing required column 'Declaration ID'" --feed "$sample" --mapping kcs-customs
expect 65 "gzip stream truncated" --feed "$T/trunc.csv.gz"
# Lines ended by CR alone: refused with a clear message, never 0 rows and exit 0
# (1,000 rows, with a mapping that keeps no extras, as well as from stdin).
{ printf 'id,date,hs,net_kg\r'; for i in $(seq 1 1000); do printf 'A%d,2026-11-20,010690,5\r' "$i"; done; } > "$T/cr.csv"
printf '{"name":"noextras","format":"csv","extras":false,"fields":{"id":"id","date":"date","hs":"hs","net_kg":"net_kg"}}' > "$T/noextras.json"
expect 65 "cr.csv:1: header row: column 4 holds a bare CR: lines ending in CR alone are not supported" --feed "$T/cr.csv"
expect 65 "lines ending in CR alone are not supported" --feed "$T/cr.csv" --mapping "$T/noextras.json"
"$E" ingest --feed - < "$T/cr.csv" > "$T/out" 2> "$T/err"
[ $? -eq 65 ] && grep -qF "lines ending in CR alone" "$T/err" || fail "CR-only feed on stdin: $(cat "$T/err")"
# Header names: no control characters, no name twice.
printf 'id,date,hs,not\001e\nA,2026-01-05,010690,x\n' > "$T/ctl.csv"
printf 'id,date,hs,net_kg,hs\nA,2026-01-05,010690,5,010690\n' > "$T/twice.csv"
printf 'id,date,hs,x,x\nA,2026-01-05,010690,1,2\n' > "$T/twice_extra.csv"
expect 65 "ctl.csv:1: header row: column 4 name holds the control character 0x01" --feed "$T/ctl.csv"
expect 65 "twice.csv:1: header row: column name 'hs' appears twice (columns 3 and 5)" --feed "$T/twice.csv"
expect 65 "twice_extra.csv:1: header row: column name 'x' appears twice (columns 4 and 5)" --feed "$T/twice_extra.csv"
expect 69 "127.0.0.1:1/x.csv" --feed http://127.0.0.1:1/x.csv
expect 73 "/nonexistent/dir/q.jsonl: cannot create" --feed "$sample" --quarantine /nonexistent/dir/q.jsonl
expect 74 "is a directory" --feed /tmp
grep -q -- "--quarantine FILE" <<<"$("$E" ingest --help)" || fail "--help"
echo "ok"
