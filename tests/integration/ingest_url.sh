#!/usr/bin/env bash
# ingest_url.sh — feeds fetched over HTTP with libcurl (streamed): the sample
# day served by `python3 -m http.server` on 127.0.0.1 (started and stopped
# here) gives exactly the same accounting and quarantine as the local file;
# gzip is detected over the wire; a 404 and a refused connection stop the run
# with exit code 69.
set -euo pipefail
E=${ECORISK:?} SRC=${ECORISK_SRC:?}
. "$SRC/tests/lib.sh"   # fail, scratch directory $T; the server is stopped at exit
mkdir "$T/www"
cp "$SRC"/feeds/samples/declarations-2026-01-05.* "$T/www/"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/www" > "$T/server.log" 2>&1 &
server=$!
bg_track "$server"
wait_for "$server" "$T/server.log" grep -q ' port [0-9]' "$T/server.log"
port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$T/server.log" | head -1)
base=http://127.0.0.1:$port

"$E" ingest --feed "$base/declarations-2026-01-05.csv" --quarantine "$T/q-url.jsonl" --json > "$T/s.json"
grep -q '"rows_read":207,"accepted":191,"quarantined":16' "$T/s.json" || fail "csv over http: $(cat "$T/s.json")"
"$E" ingest --feed "$SRC/feeds/samples/declarations-2026-01-05.csv" --quarantine "$T/q-file.jsonl" > /dev/null
diff <(sed 's/"file":"[^"]*"//' "$T/q-url.jsonl") <(sed 's/"file":"[^"]*"//' "$T/q-file.jsonl") \
  || fail "quarantine over http differs"
"$E" ingest --feed "$base/declarations-2026-01-05.jsonl.gz" --json > "$T/s2.json"
grep -q '"format":"jsonl".*"rows_read":207,"accepted":191,"quarantined":16' "$T/s2.json" \
  || fail "jsonl.gz over http: $(cat "$T/s2.json")"

set +e
"$E" ingest --feed "$base/missing.csv" 2> "$T/err.txt"; rc=$?
set -e
[ "$rc" -eq 69 ] || fail "404: exit $rc"
grep -q "missing.csv: HTTP status 404" "$T/err.txt" || fail "404 message: $(cat "$T/err.txt")"

bg_stop "$server"
set +e
"$E" ingest --feed "$base/declarations-2026-01-05.csv" 2> "$T/err2.txt"; rc=$?
set -e
[ "$rc" -eq 69 ] || fail "refused connection: exit $rc"
grep -q "127.0.0.1:$port/declarations-2026-01-05.csv: " "$T/err2.txt" || fail "refused message: $(cat "$T/err2.txt")"
echo "ok"
