#!/usr/bin/env bash
# push_diskfull.sh — the outbox cannot be written (disk full, injected with
# ECORISK_FAULT_WRITE=N: the N-th write operation fails with ENOSPC) or memory
# runs out (ECORISK_FAULT_ALLOC=N), at every point of a spool and of a push:
# the command fails loudly (exit 73/74/71, the cause on stderr), no alert is
# reported delivered that is not recorded in sent/ and at the receiver, no
# alert is lost (received + pending = all), and a later push completes.
source "$ECORISK_SRC/tests/receiver/lib.sh"
cd "$T"
CHECK="$PY $ECORISK_SRC/tests/receiver/check_delivery.py"
gen_alerts 3000 --seed diskfull > all.jsonl
rx_start rx
URL="http://127.0.0.1:$RX_PORT/cen"
slice=0
next_slice() { # dir: 30 fresh alerts (3 batches of 10) for one round
  slice=$((slice + 1))
  mkdir -p "$1"
  sed -n "$(( (slice - 1) * 30 + 1 )),$(( slice * 30 ))p" all.jsonl > "$1/alerts.jsonl"
}
rounds=()
failed=0

# --- spooling with a full disk: fails loudly, reports only what is safely pending
for n in $(seq 1 16); do
  d="spool$n"
  next_slice "$d"
  set +e
  ECORISK_FAULT_WRITE=$n "$ECORISK" push --outbox "$d/ob" --enqueue "$d/alerts.jsonl" --batch 10 --no-send 2> "$d/err"
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    case "$rc" in 73|74) ;; *) fail "spool N=$n: exit $rc ($(cat "$d/err"))";; esac
    grep -q 'No space left on device' "$d/err" || fail "spool N=$n: cause not reported: $(cat "$d/err")"
    # "(K alerts are safely pending)": at least K are
    if k=$(grep -o '([0-9]* alerts are safely pending' "$d/err" | grep -o '^([0-9]*' | tr -d '('); then
      have=$(cat "$d"/ob/pending/*.json 2>/dev/null | grep -c alert_id || true)
      [ "$have" -ge "$k" ] || fail "spool N=$n: $k reported pending, $have are"
    fi
  fi
done
# mkdir x5 + 3 batches x (create, write, fsync, rename, fsync dir) = 20 operations; 16 tried
check_eq 16 "$failed" "spools that failed"

# --- pushing with a full disk: the receipt or the move to sent/ fails
failed=0
for n in $(seq 1 32); do
  d="push$n"
  next_slice "$d"
  "$ECORISK" push --outbox "$d/ob" --enqueue "$d/alerts.jsonl" --batch 10 --no-send 2>/dev/null
  set +e
  ECORISK_FAULT_WRITE=$n "$ECORISK" push --outbox "$d/ob" --endpoint "$URL" --insecure-http > "$d/out" 2> "$d/err"
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    case "$rc" in 73|74) ;; *) fail "push N=$n: exit $rc ($(cat "$d/err"))";; esac
    grep -q 'No space left on device' "$d/err" || fail "push N=$n: cause not reported: $(cat "$d/err")"
  fi
  rounds+=(--round "$d/alerts.jsonl" "$d/ob" "$d/out")
done
# open: 5 mkdir; per batch: receipt (5) + rename + 2 fsync = 8; 5 + 3*8 = 29 operations
check_eq 29 "$failed" "pushes that failed"

# --- out of memory at every allocation of a push
failed=0
for n in $(seq 1 40); do
  d="oom$n"
  next_slice "$d"
  "$ECORISK" push --outbox "$d/ob" --enqueue "$d/alerts.jsonl" --batch 10 --no-send 2>/dev/null
  set +e
  ECORISK_FAULT_ALLOC=$n "$ECORISK" push --outbox "$d/ob" --endpoint "$URL" --insecure-http > "$d/out" 2> "$d/err"
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    check_eq 71 "$rc" "oom N=$n: exit status ($(cat "$d/err"))"
    grep -q 'out of memory' "$d/err" || fail "oom N=$n: cause not reported: $(cat "$d/err")"
  fi
  rounds+=(--round "$d/alerts.jsonl" "$d/ob" "$d/out")
done
# open 1, listing 1, base headers 4; per batch: read 1, request headers 5, receipt 1, and the
# response buffer once: 1 + 1 + 4 + 8 + 7 + 7 = 28 allocation points, then the push succeeds
check_eq 28 "$failed" "pushes that failed for lack of memory"

# invariants right after the faults, for every round at once
$CHECK --received rx/alerts.jsonl "${rounds[@]}" > check1.txt || fail "after the faults"

# a push without faults completes every round
for ((i = 0; i < ${#rounds[@]}; i += 4)); do
  ob=${rounds[i + 2]}
  "$ECORISK" push --outbox "$ob" --endpoint "$URL" --insecure-http > /dev/null 2> "$ob.recover.err" ||
    fail "recovery push of $ob failed: $(cat "$ob.recover.err")"
done
$CHECK --received rx/alerts.jsonl --complete "${rounds[@]}" > check2.txt || fail "after recovery"
echo "push_diskfull: ok"
