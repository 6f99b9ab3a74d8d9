#!/usr/bin/env bash
# push.sh — delivery throughput: N alerts (default 100000) spooled with
# `ecorisk push --enqueue --no-send`, then pushed to the CEN-style receiver on
# 127.0.0.1 in batches (default 1000) over one keep-alive connection. Prints
# alerts/s and peak RSS for the spool and the push, the same push to a
# receiver that skips schema validation (to show where the time goes), and a
# reference (wc -l, awk over the same file) measured in the same run.
#   bench/push.sh [N] [BATCH]        env: ECORISK (binary), KEEP=1 keeps the scratch dir
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
E=${ECORISK:-$here/build/ecorisk}
N=${1:-100000}
BATCH=${2:-1000}
. "$here/tests/lib.sh"   # PY; scratch directory $T (KEEP=1 keeps it); rx_start / rx_stop: the receiver
W=$T
[ -x "$E" ] || { echo "build first: $E not found" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }
rss() { awk -F': *' '/Maximum resident/ { printf "%.1f MiB", $2 / 1024 }' "$1"; }
cpu() { awk -F': *' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f s", u + s }' "$1"; }

"$PY" "$here/tests/receiver/gen_alerts.py" "$N" --seed bench > "$W/alerts.jsonl"
bytes=$(wc -c < "$W/alerts.jsonl")
echo "push bench: $N alerts ($((bytes / 1024 / 1024)) MiB JSONL), batches of $BATCH, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

t0=$(now); wc -l "$W/alerts.jsonl" > /dev/null; t1=$(now)
echo "reference  wc -l:                 $(rate "$N" "$(elapsed "$t0" "$t1")") lines/s"
t0=$(now); awk 'index($0, "\"alert_id\"") { n++ } END { print n }' "$W/alerts.jsonl" > /dev/null; t1=$(now)
echo "reference  awk (match each line): $(rate "$N" "$(elapsed "$t0" "$t1")") lines/s"

rx_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f s", ($14 + $15) / hz }' "/proc/$RX_PID/stat"; }

run() { # label outbox store [receiver options]
  local label=$1 ob=$2 store=$3; shift 3
  t0=$(now)
  /usr/bin/time -v "$E" push -q --outbox "$ob" --enqueue "$W/alerts.jsonl" --batch "$BATCH" --no-send \
    2> "$W/$label.spool.time"
  t1=$(now)
  spool=$(elapsed "$t0" "$t1")
  rx_start "$store" "$@"
  t0=$(now)
  /usr/bin/time -v "$E" push -q --outbox "$ob" --endpoint "http://127.0.0.1:$RX_PORT/alerts" --insecure-http \
    --batch "$BATCH" > "$W/$label.out" 2> "$W/$label.push.time"
  t1=$(now)
  rxcpu=$(rx_cpu)
  rx_stop
  push=$(elapsed "$t0" "$t1")
  got=$(wc -l < "$store/alerts.jsonl")
  [ "$got" -eq "$N" ] || { echo "receiver stored $got of $N alerts" >&2; exit 1; }
  printf '%-11s spool: %7s alerts/s (%.2f s, cpu %s, peak RSS %s)\n' "$label" "$(rate "$N" "$spool")" "$spool" \
    "$(cpu "$W/$label.spool.time")" "$(rss "$W/$label.spool.time")"
  printf '%-11s push:  %7s alerts/s (%.2f s, ecorisk cpu %s, receiver cpu %s, peak RSS %s, %s requests)\n' \
    "$label" "$(rate "$N" "$push")" "$push" "$(cpu "$W/$label.push.time")" "$rxcpu" "$(rss "$W/$label.push.time")" \
    "$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["requests"])' "$W/$label.out")"
}

run validating "$W/ob1" "$W/rx1"
run no-validate "$W/ob2" "$W/rx2" --no-validate
