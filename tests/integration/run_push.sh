#!/usr/bin/env bash
# run_push.sh — `ecorisk run --push`: the nightly job spools its alerts in the
# outbox and delivers them to the CEN-style receiver on 127.0.0.1, which
# validates every alert against docs/alert.schema.json. Checks: all alerts of
# the run arrive exactly once and valid; --non-nominal strips persons and
# companies from what is sent while alerts.jsonl and the outbox keep them; the
# endpoint down leaves every alert pending with exit 75, and a later push
# delivers them; the default outbox is shared by every night (beside --out), so
# tonight's pending alerts go out with tomorrow's run; --retries/--max-time are
# taken as by push; alerts are spooled before the outputs are published (a run
# whose spooling fails publishes nothing); plain http only to loopback.
source "$ECORISK_SRC/tests/receiver/lib.sh"
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
F="$ECORISK_SRC/tests/fixtures/run"
cd "$T"

# Endpoint down: the run itself succeeds (files written), the alerts stay pending, exit 75.
# The port is held by a bound socket that never listens, so connections are refused and no
# other test's receiver can take it meanwhile.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(600)' > port.down &
holder=$!
bg_track "$holder"
wait_port port.down "$holder" /dev/null
port=$(cat port.down)
set +e
"$ECORISK" run --feed "$F/day.csv" --as-of 2026-11-24 --out day --push "http://127.0.0.1:$port/alerts" \
  --insecure-http --retries 0 --max-time 2 --connect-timeout 1 > down.out 2> down.err
rc=$?
set -e
bg_stop "$holder"
check_eq 75 "$rc" "run --push with the endpoint down"
ids_jsonl day/alerts.jsonl > all.ids
n=$(wc -l < all.ids)
[ "$n" -ge 10 ] || fail "expected the planted alerts, got $n"
[ -d outbox/pending ] && [ ! -e day/outbox ] || fail "the default outbox is not the shared one beside --out"
ids_outbox outbox pending > pending.ids
cmp -s all.ids pending.ids || fail "pending set differs from alerts.jsonl"

# The endpoint comes back: the next night's run (another --out, the same shared
# outbox) delivers everything exactly once (re-spooling the same alerts is a
# no-op: batches are named by content hash).
rx_start rx --require-idempotency-key
"$ECORISK" run --feed "$F/day.csv" --as-of 2026-11-24 --out day-next --push "http://127.0.0.1:$RX_PORT/alerts" \
  --max-quarantine-share 0.5 --insecure-http > up.out 2> up.err || { cat up.err; fail "run --push exited $?"; }
ids_received rx > rx.ids
cmp -s all.ids rx.ids || fail "receiver set differs from alerts.jsonl"
check_eq 0 "$(ls outbox/pending | wc -l)" "pending after delivery"
grep -q '"status": *4' rx/requests.jsonl && fail "receiver rejected a batch: $(grep '"status": *4' rx/requests.jsonl | head -1)"
grep -q '"importer"' rx/alerts.jsonl || fail "nominal push lost the importer"
rx_stop

# --non-nominal: what is sent has no importer, exporter or declarant; local copies keep them.
rx_start rx2
"$ECORISK" run --feed "$F/day.csv" --as-of 2026-11-24 --out day2 --push "http://127.0.0.1:$RX_PORT/alerts" \
  --outbox ob2 --max-quarantine-share 0.5 --insecure-http --non-nominal 2> nn.err || { cat nn.err; fail "run --push --non-nominal exited $?"; }
ids_received rx2 > rx2.ids
cmp -s all.ids rx2.ids || fail "non-nominal receiver set differs"
if grep -q -e '"importer"' -e '"exporter"' -e '"declarant"' rx2/alerts.jsonl; then fail "nominal data reached the receiver"; fi
grep -q '"importer"' day2/alerts.jsonl || fail "alerts.jsonl lost the importer"
grep -q '"importer"' ob2/sent/*.json || fail "outbox copy lost the importer"
# Spooling comes before publishing: an outbox that cannot be created stops the
# run with the previous outputs in place.
before=$(sha256sum day/summary.json)
rc=0; "$ECORISK" run --feed "$F/day.csv" --as-of 2026-11-25 --out day --push "http://127.0.0.1:9/alerts" \
  --insecure-http --outbox /dev/null/ob 2> nospool.err || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 75 ] || fail "run with an unusable outbox exited $rc"
check_eq "$before" "$(sha256sum day/summary.json)" "outputs published although spooling failed"

# Plain http only to loopback, for push and run --push alike (no connection is tried).
for host in 192.0.2.1 example.org 10.0.0.1:8080; do
  rc=0; "$ECORISK" push --outbox outbox --endpoint "http://$host/alerts" --insecure-http 2> lb.err || rc=$?
  [ "$rc" -ne 0 ] && grep -q "only accepted for loopback" lb.err || fail "push to http://$host accepted (exit $rc)"
done
rc=0; "$ECORISK" run --feed "$F/day.csv" --as-of 2026-11-24 --out day4 --push "http://192.0.2.1/alerts" \
  --insecure-http 2> lb.err || rc=$?
[ "$rc" -ne 0 ] && grep -q "only accepted for loopback" lb.err || fail "run --push to http://192.0.2.1 accepted (exit $rc)"

# A hanging endpoint (accepts, never answers): run --push takes push's limits,
# so --max-time 1 --retries 1 gives up after two 1-second attempts and keeps
# every alert pending (exit 75), instead of 60 s x 5 attempts per batch.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16); print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' > port.hang &
holder=$!
bg_track "$holder"
wait_port port.hang "$holder" /dev/null
set +e
timeout 30 "$ECORISK" run --feed "$F/day.csv" --as-of 2026-11-24 --out day3 --outbox ob3 --batch 1000 \
  --push "http://127.0.0.1:$(cat port.hang)/alerts" --insecure-http --max-time 1 --retries 1 \
  --backoff 0.1 --log-level debug > hang.out 2> hang.err
rc=$?
set -e
bg_stop "$holder"
check_eq 75 "$rc" "run --push --max-time 1 --retries 1 against a hanging endpoint ($(tail -3 hang.err))"
ids_outbox ob3 pending > pending3.ids
ids_jsonl day3/alerts.jsonl > all3.ids
cmp -s all3.ids pending3.ids || fail "hanging endpoint: pending set differs from alerts.jsonl"
check_eq 1 "$(ls ob3/pending | wc -l)" "one batch of up to 1000 alerts (--batch forwarded)"
grep -q 'retries' hang.err || fail "no delivery summary: $(cat hang.err)"
echo "run_push: ok"
