#!/usr/bin/env bash
# push_tls.sh — HTTPS delivery: a self-signed receiver is trusted with
# --cacert and refused without it (nothing moved, exit 69); plain http needs
# --insecure-http; mutual TLS with --cert/--key; the bearer token (from
# ECORISK_TOKEN or --token-file) never appears in stdout, stderr, the outbox
# or the receiver's request log.
source "$ECORISK_SRC/tests/receiver/lib.sh"
cd "$T"
gen_alerts 40 --seed tls > alerts.jsonl
ids_jsonl alerts.jsonl > all.ids
TOKEN="tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$TOKEN" > rx.token

cert() { # name CN [extra openssl args]: EC key + self-signed certificate
  local name=$1 cn=$2; shift 2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$name.key" -out "$name.crt" -subj "/CN=$cn" "$@" 2>/dev/null
}
cert server 127.0.0.1 -addext "subjectAltName=IP:127.0.0.1"
cert other 127.0.0.1 -addext "subjectAltName=IP:127.0.0.1"
cert client ecorisk-client

"$ECORISK" push --outbox ob --enqueue alerts.jsonl --batch 10 --no-send 2>/dev/null
rx_start rx --tls-cert server.crt --tls-key server.key --token-file rx.token
URL="https://127.0.0.1:$RX_PORT/cen"

# --- without --cacert the self-signed server is refused: exit 69, all pending
set +e
ECORISK_TOKEN=$TOKEN "$ECORISK" push --outbox ob --endpoint "$URL" > nocacert.out 2> nocacert.err
rc=$?
set -e
check_eq 69 "$rc" "exit status without --cacert ($(cat nocacert.err))"
check_eq 40 "$(summary_field nocacert.out pending_alerts)" "pending without --cacert"
check_eq 1 "$(summary_field nocacert.out requests)" "no retry of a verification failure"
grep -qi 'certificate' nocacert.err || fail "verification failure not explained"
check_eq 0 "$(count_lines rx/requests.jsonl)" "requests that reached the receiver"

# --- the wrong CA is refused too
set +e
ECORISK_TOKEN=$TOKEN "$ECORISK" push --outbox ob --endpoint "$URL" --cacert other.crt > wrongca.out 2> wrongca.err
rc=$?
set -e
check_eq 69 "$rc" "exit status with the wrong CA"

# --- plain http is refused unless --insecure-http
set +e
"$ECORISK" push --outbox ob --endpoint "http://127.0.0.1:$RX_PORT/cen" > http.out 2> http.err
rc=$?
set -e
check_eq 64 "$rc" "exit status for http:// without --insecure-http"
grep -q 'https is required' http.err || fail "http refusal not explained"

# --- --insecure-http reaches loopback only: a private-range or named host is
# refused before any connection (exit 64), and nothing leaves the outbox
before=$(ls ob/pending | wc -l)
for ep in http://10.255.255.1:9/cen http://192.168.0.1/cen http://localhost.example:80/ \
          "http://[fd00::1]:8080/cen" HTTP://172.16.0.1/cen; do
  set +e
  "$ECORISK" push --outbox ob --insecure-http --max-time 2 --endpoint "$ep" > lo.out 2> lo.err
  rc=$?
  set -e
  check_eq 64 "$rc" "exit status for --insecure-http to $ep"
  grep -q 'plain http is only accepted for loopback test servers' lo.err || fail "$ep: $(cat lo.err)"
done
check_eq "$before" "$(ls ob/pending | wc -l)" "pending after refused non-loopback endpoints"

# --- with --cacert and the token from the environment: delivered
ECORISK_TOKEN=$TOKEN "$ECORISK" push --outbox ob --endpoint "$URL" --cacert server.crt --log-level debug \
  > ok.out 2> ok.err
check_eq 40 "$(summary_field ok.out delivered_alerts)" "delivered over https"
ids_received rx > rx.ids
cmp -s all.ids rx.ids || fail "receiver set differs"
grep -q '"Authorization":"<redacted>"' rx/requests.jsonl || fail "token not sent"

# --- token from a file, mutual TLS required by the receiver
rx_stop
rm -rf rx ob2
printf '%s\n' "$TOKEN" > my.token
chmod 600 my.token
"$ECORISK" push --outbox ob2 --enqueue alerts.jsonl --batch 10 --no-send 2>/dev/null
# TLS 1.2: the refusal of a missing client certificate is part of the handshake
# (with TLS 1.3 it arrives after it, racing with the request)
rx_start rx --tls-cert server.crt --tls-key server.key --token-file rx.token --client-ca client.crt --tls12
URL="https://127.0.0.1:$RX_PORT/cen"
set +e
"$ECORISK" push --outbox ob2 --endpoint "$URL" --cacert server.crt --token-file my.token --retries 0 \
  > nocert.out 2> nocert.err
rc=$?
set -e
check_eq 69 "$rc" "exit status without a client certificate ($(cat nocert.err))"
check_eq 40 "$(summary_field nocert.out pending_alerts)" "pending without a client certificate"
"$ECORISK" push --outbox ob2 --endpoint "$URL" --cacert server.crt --token-file my.token \
  --cert client.crt --key client.key --log-level debug > mtls.out 2> mtls.err
check_eq 40 "$(summary_field mtls.out delivered_alerts)" "delivered with mutual TLS"
check_eq 40 "$(count_lines rx/alerts.jsonl)" "unique alerts (mutual TLS)"

# --- a group-readable token file is warned about
chmod 644 my.token
"$ECORISK" push --outbox ob2 --endpoint "$URL" --cacert server.crt --token-file my.token \
  --cert client.crt --key client.key > /dev/null 2> perm.err
grep -q 'readable by group or others' perm.err || fail "no warning for a readable token file"

# --- the token is nowhere but in the token files and the receiver's own config
rx_stop
for f in *.out *.err; do
  if grep -qF "$TOKEN" "$f"; then fail "token leaked into $f"; fi
done
if grep -rqF "$TOKEN" ob ob2 rx; then fail "token leaked into the outbox or the receiver store"; fi
echo "push_tls: ok"
