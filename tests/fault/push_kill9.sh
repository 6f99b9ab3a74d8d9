#!/usr/bin/env bash
# push_kill9.sh — `ecorisk push` killed with SIGKILL at random points, 20
# times: after every kill, the receiver's deduplicated set plus what is still
# pending equals the full alert set, everything in sent/ really reached the
# receiver, and a final push delivers the rest exactly once. Half the rounds
# re-batch (--batch 4 over stored batches of 10), so kills also land between
# writing the chunks and removing the original.
source "$ECORISK_SRC/tests/receiver/lib.sh"
cd "$T"
CHECK="$PY $ECORISK_SRC/tests/receiver/check_delivery.py"
rx_start rx --delay 0.02
URL="http://127.0.0.1:$RX_PORT/cen"
gen_alerts 4000 --seed kill9 > all.jsonl
RANDOM=$$
# The kill falls uniformly in [0, U] ms; U adapts as a staircase (up 10% after
# a kill mid-push, down 30% after a push that finished first), so most kills
# land mid-push however fast the machine delivers.
killed_mid=0 U=500
for round in $(seq 1 20); do
  d="r$round"
  mkdir -p "$d"
  sed -n "$(( (round - 1) * 200 + 1 )),$(( round * 200 ))p" all.jsonl > "$d/alerts.jsonl"
  "$ECORISK" push --outbox "$d/ob" --enqueue "$d/alerts.jsonl" --batch 10 --no-send 2>/dev/null
  batch=10
  if [ $((round % 2)) -eq 0 ]; then batch=4; fi
  "$ECORISK" push --outbox "$d/ob" --endpoint "$URL" --insecure-http --batch "$batch" > "$d/out" 2> "$d/err" &
  pid=$!
  wait_ms=$((RANDOM % (U + 1)))
  sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  rc=0; wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" -eq 137 ]; then
    killed_mid=$((killed_mid + 1)); U=$(( U * 110 / 100 + 1 ))
  else
    U=$(( U * 70 / 100 )); [ "$U" -ge 1 ] || U=1
  fi
  $CHECK --alerts "$d/alerts.jsonl" --received rx/alerts.jsonl --outbox "$d/ob" > "$d/check" ||
    fail "round $round, after the kill"
  # the next push delivers the rest: the full set, each alert once
  "$ECORISK" push --outbox "$d/ob" --endpoint "$URL" --insecure-http --batch "$batch" > "$d/out2" 2> "$d/err2" ||
    fail "round $round: recovery push failed: $(cat "$d/err2")"
  $CHECK --alerts "$d/alerts.jsonl" --received rx/alerts.jsonl --outbox "$d/ob" --complete > "$d/check2" ||
    fail "round $round, after recovery"
  check_eq 0 "$(ls "$d/ob/dead" | wc -l)" "round $round: dead"
done
check_eq 4000 "$(count_lines rx/alerts.jsonl)" "unique alerts stored once each"
echo "push_kill9: ok ($killed_mid of 20 pushes killed mid-run)"
[ "$killed_mid" -ge 10 ] || fail "too few kills landed mid-run ($killed_mid): the test would prove little"
