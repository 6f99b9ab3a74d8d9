#!/usr/bin/env bash
# ingest_url.sh — feeds fetched over HTTP with libcurl (streamed): the sample
# day served by `python3 -m http.server` on 127.0.0.1 (started and stopped
# here) gives exactly the same accounting and quarantine as the local file;
# gzip is detected over the wire; a 404 and a refused connection stop the run
# with exit code 69.
set -euo pipefail
E=${ECORISK:?} SRC=${ECORISK_SRC:?}
tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir "$tmp/www"
cp "$SRC"/feeds/samples/declarations-2026-01-05.* "$tmp/www/"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" > "$tmp/server.log" 2>&1 &
server=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$tmp/server.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "http.server did not start: $(cat "$tmp/server.log")"
base=http://127.0.0.1:$port

"$E" ingest --feed "$base/declarations-2026-01-05.csv" --quarantine "$tmp/q-url.jsonl" --json > "$tmp/s.json"
grep -q '"rows_read":207,"accepted":191,"quarantined":16' "$tmp/s.json" || fail "csv over http: $(cat "$tmp/s.json")"
"$E" ingest --feed "$SRC/feeds/samples/declarations-2026-01-05.csv" --quarantine "$tmp/q-file.jsonl" > /dev/null
diff <(sed 's/"file":"[^"]*"//' "$tmp/q-url.jsonl") <(sed 's/"file":"[^"]*"//' "$tmp/q-file.jsonl") \
  || fail "quarantine over http differs"
"$E" ingest --feed "$base/declarations-2026-01-05.jsonl.gz" --json > "$tmp/s2.json"
grep -q '"format":"jsonl".*"rows_read":207,"accepted":191,"quarantined":16' "$tmp/s2.json" \
  || fail "jsonl.gz over http: $(cat "$tmp/s2.json")"

set +e
"$E" ingest --feed "$base/missing.csv" 2> "$tmp/err.txt"; rc=$?
set -e
[ "$rc" -eq 69 ] || fail "404: exit $rc"
grep -q "missing.csv: HTTP status 404" "$tmp/err.txt" || fail "404 message: $(cat "$tmp/err.txt")"

kill "$server"; wait "$server" 2>/dev/null || true; server=
set +e
"$E" ingest --feed "$base/declarations-2026-01-05.csv" 2> "$tmp/err2.txt"; rc=$?
set -e
[ "$rc" -eq 69 ] || fail "refused connection: exit $rc"
grep -q "127.0.0.1:$port/declarations-2026-01-05.csv: " "$tmp/err2.txt" || fail "refused message: $(cat "$tmp/err2.txt")"
echo "ok"
