#!/usr/bin/env bash
# push_deliver.sh — `ecorisk push` end to end against the CEN-style receiver
# on 127.0.0.1: spooling, delivery with receipts and Idempotency-Key, the
# endpoint down for a whole run (all pending, exit 75) then delivered exactly
# once, re-push and re-enqueue as no-ops, invalid input refused as a whole,
# re-batching with --batch, and --non-nominal stripping only what is sent.
source "$ECORISK_SRC/tests/receiver/lib.sh"
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
cd "$T"
gen_alerts 250 --seed deliver > alerts.jsonl
ids_jsonl alerts.jsonl > all.ids
check_eq 250 "$(wc -l < all.ids)" "generated ids"

# --- endpoint down for the whole run: everything stays pending, exit 75
port=$(free_port)
set +e
"$ECORISK" push --outbox ob --enqueue alerts.jsonl --batch 100 --endpoint "http://127.0.0.1:$port/alerts" \
  --insecure-http --retries 2 --backoff 0.05 > down.out 2> down.err
rc=$?
set -e
check_eq 75 "$rc" "exit status with the endpoint down"
check_eq 3 "$(summary_field down.out pending_batches)" "pending batches"
check_eq 250 "$(summary_field down.out pending_alerts)" "pending alerts"
check_eq 3 "$(summary_field down.out requests)" "requests (3 attempts of the first batch)"
check_eq 2 "$(summary_field down.out retries)" "retries"
check_eq 0 "$(summary_field down.out delivered_alerts)" "delivered"
grep -q "retrying in" down.err || fail "no retry logged"
grep -q "3 attempts made" down.err || fail "give-up not logged"
ids_outbox ob pending > pending.ids
cmp -s all.ids pending.ids || fail "pending set differs from the alerts"
check_eq 3 "$(ls ob/pending | wc -l)" "files in pending/"
check_eq 0 "$(ls ob/tmp | wc -l)" "files in tmp/"
# batch files: named by their content hash, JSON arrays of at most 100 alerts
for f in ob/pending/*.json; do
  h=$(sha256sum "$f" | cut -c1-64)
  check_eq "$h.json" "$(basename "$f")" "batch name"
done

# --- the endpoint comes back: all delivered, exactly once
rx_start rx --require-idempotency-key
"$ECORISK" push --outbox ob --endpoint "http://127.0.0.1:$RX_PORT/alerts" --insecure-http > up.out 2> up.err
check_eq 3 "$(summary_field up.out delivered_batches)" "delivered batches"
check_eq 250 "$(summary_field up.out delivered_alerts)" "delivered alerts"
check_eq 0 "$(summary_field up.out pending_alerts)" "pending after delivery"
check_eq 0 "$(ls ob/pending | wc -l)" "files in pending/"
check_eq 6 "$(ls ob/sent | wc -l)" "batches + receipts in sent/"
check_eq 250 "$(count_lines rx/alerts.jsonl)" "unique alerts at the receiver"
ids_received rx > rx.ids
cmp -s all.ids rx.ids || fail "receiver set differs"
check_eq 3 "$(count_lines rx/requests.jsonl)" "requests at the receiver"
# every request carried its batch hash as Idempotency-Key, JSON content type, a receipt exists
"$PY" - "$T" <<'PY'
import json, os, sys
t = sys.argv[1]
reqs = [json.loads(l) for l in open(os.path.join(t, "rx/requests.jsonl"))]
sent = sorted(f[:-5] for f in os.listdir(os.path.join(t, "ob/sent")) if f.endswith(".json") and "." not in f[:-5])
assert sorted(r["idempotency_key"] for r in reqs) == sent, (reqs, sent)
for r in reqs:
    assert r["headers"]["Content-Type"] == "application/json", r
    assert r["status"] == 201 and r["new"] == r["n_alerts"] and r["dup"] == 0, r
    assert "Authorization" not in r["headers"], r
for k in sent:
    rc = json.load(open(os.path.join(t, "ob/sent", k + ".receipt.json")))
    assert rc["status"] == 201 and rc["idempotency_key"] == k and rc["batch"] == k + ".json", rc
    assert rc["response"]["accepted"] == rc["alerts"] and rc["response"]["idempotency_key"] == k, rc
PY

# --- nothing pending: push is a no-op; re-enqueueing delivered batches too
"$ECORISK" push --outbox ob --endpoint "http://127.0.0.1:$RX_PORT/alerts" --insecure-http > again.out 2>/dev/null
check_eq 0 "$(summary_field again.out requests)" "requests with nothing pending"
"$ECORISK" push --outbox ob --enqueue alerts.jsonl --batch 100 --no-send 2>/dev/null
check_eq 0 "$(ls ob/pending | wc -l)" "re-enqueued, already delivered batches"
check_eq 3 "$(count_lines rx/requests.jsonl)" "requests at the receiver"

# --- an invalid line: nothing from that file is spooled, exit 65, line named
gen_alerts 5 --seed bad > bad.jsonl
echo '{"alert_id": "x", "broken": ' >> bad.jsonl
gen_alerts 5 --seed bad2 >> bad.jsonl
set +e
"$ECORISK" push --outbox ob2 --enqueue bad.jsonl --no-send 2> bad.err
rc=$?
set -e
check_eq 65 "$rc" "exit status for an invalid alert line"
grep -q "bad.jsonl:6: not valid JSON" bad.err || fail "bad line not named: $(cat bad.err)"
check_eq 0 "$(ls ob2/pending | wc -l)" "pending after a refused enqueue"
echo '{"no_id": 1}' > noid.jsonl
set +e
"$ECORISK" push --outbox ob2 --enqueue noid.jsonl --no-send 2> noid.err
rc=$?
set -e
check_eq 65 "$rc" "exit status for an alert without id"
grep -q 'noid.jsonl:1: no "alert_id" string' noid.err || fail "missing alert_id not named"

# --- re-batching: one stored batch of 250, pushed with --batch 40 → 7 requests
rx_stop
rm -rf rx ob3
"$ECORISK" push --outbox ob3 --enqueue alerts.jsonl --batch 1000 --no-send 2>/dev/null
check_eq 1 "$(ls ob3/pending | wc -l)" "one big batch"
rx_start rx
"$ECORISK" push --outbox ob3 --batch 40 --endpoint "http://127.0.0.1:$RX_PORT/alerts" --insecure-http > rb.out 2> rb.err
check_eq 1 "$(summary_field rb.out rebatched)" "re-batched"
check_eq 7 "$(summary_field rb.out delivered_batches)" "chunk batches delivered"
check_eq 250 "$(summary_field rb.out delivered_alerts)" "alerts delivered"
check_eq 14 "$(ls ob3/sent | wc -l)" "chunks + receipts in sent/"
ids_received rx > rx3.ids
cmp -s all.ids rx3.ids || fail "receiver set differs after re-batching"
# order kept: the receiver saw the alerts in file order
"$PY" - "$T" <<'PY'
import json, sys
t = sys.argv[1]
a = [json.loads(l)["alert_id"] for l in open(t + "/alerts.jsonl")]
r = [json.loads(l)["alert_id"] for l in open(t + "/rx/alerts.jsonl")]
assert a == r, "order differs"
PY

# --- non-nominal: the receiver refuses nominal data; --non-nominal strips it
rx_stop
rm -rf rx ob4
rx_start rx --non-nominal
set +e
"$ECORISK" push --outbox ob4 --enqueue alerts.jsonl --batch 100 --endpoint "http://127.0.0.1:$RX_PORT/alerts" \
  --insecure-http > nom.out 2> nom.err
rc=$?
set -e
check_eq 1 "$rc" "exit status when batches are rejected"
check_eq 3 "$(summary_field nom.out dead_batches)" "dead batches"
check_eq 250 "$(summary_field nom.out dead_alerts)" "dead alerts"
check_eq 0 "$(summary_field nom.out pending_batches)" "pending"
check_eq 6 "$(ls ob4/dead | wc -l)" "dead batches + responses"
grep -q '"status": 422' ob4/dead/*.response.json || fail "response not kept in dead/"
grep -q 'nominal data refused' ob4/dead/*.response.json || fail "response body not kept"
# operator fix: move back to pending and push non-nominal
for f in ob4/dead/*.json; do case "$f" in *.response.json) ;; *) mv "$f" ob4/pending/ ;; esac; done
"$ECORISK" push --outbox ob4 --endpoint "http://127.0.0.1:$RX_PORT/alerts" --insecure-http --non-nominal \
  > nn.out 2> nn.err
check_eq 250 "$(summary_field nn.out delivered_alerts)" "non-nominal delivered"
check_eq 250 "$(count_lines rx/alerts.jsonl)" "unique alerts"
if grep -q -e '"importer"' -e '"exporter"' -e '"declarant"' rx/alerts.jsonl; then fail "nominal data reached the receiver"; fi
check_eq 250 "$(cat ob4/sent/*.json | grep -c '"importer":"IMP-')" "local copies keep the importer"
grep -q '"non_nominal": true' ob4/sent/*.receipt.json || fail "receipt does not say non-nominal"
echo "push_deliver: ok"
