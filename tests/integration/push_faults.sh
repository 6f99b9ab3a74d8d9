#!/usr/bin/env bash
# push_faults.sh — delivery through a failing receiver: 500s, 429 with
# Retry-After (seconds and HTTP date), a hang past --max-time, a reset in the
# middle of the response, a connection closed without answer, a 400, a
# Retry-After beyond the limit and a 401. Every alert ends delivered exactly
# once at the receiver (after dedupe), dead, or pending — never lost — and the
# backoff is visible in the receiver's request timestamps.
source "$ECORISK_SRC/tests/receiver/lib.sh"
cd "$T"
gen_alerts 30 --seed faults > alerts.jsonl
ids_jsonl alerts.jsonl > all.ids

# scenario NAME PLAN [push options...]: fresh outbox + receiver, push, keep outputs.
scenario() {
  local name=$1 plan=$2; shift 2
  rx_stop
  rm -rf "$name"
  mkdir -p "$name"
  "$ECORISK" push --outbox "$name/ob" --enqueue alerts.jsonl --batch 10 --no-send 2>/dev/null
  rx_start "$name/rx" --plan "$plan"
  set +e
  "$ECORISK" push --outbox "$name/ob" --endpoint "http://127.0.0.1:$RX_PORT/cen" --insecure-http "$@" \
    > "$name/out" 2> "$name/err"
  echo $? > "$name/rc"
  set -e
  rx_stop
}

all_delivered() { # name: every alert at the receiver exactly once, nothing pending
  local name=$1
  check_eq 0 "$(cat "$name/rc")" "$name: exit status ($(cat "$name/err"))"
  check_eq 30 "$(summary_field "$name/out" delivered_alerts)" "$name: delivered alerts"
  check_eq 0 "$(ls "$name/ob/pending" | wc -l)" "$name: pending"
  check_eq 30 "$(count_lines "$name/rx/alerts.jsonl")" "$name: unique alerts at the receiver"
  ids_received "$name/rx" > "$name/rx.ids"
  cmp -s all.ids "$name/rx.ids" || fail "$name: receiver set differs"
}

# gaps NAME: seconds between the receiver starting to answer request i (t_reply,
# before the client can start waiting) and receiving request i+1: >= the client's wait
gaps() { "$PY" - "$1/rx/requests.jsonl" <<'PY'
import json, sys
r = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda x: x["seq"])
r.sort(key=lambda x: x["seq"])
print(" ".join("%.3f" % (b["t"] - a["t_reply"]) for a, b in zip(r, r[1:])))
PY
}
ge() { "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }

# --- 500 three times: exponential backoff with jitter (base 0.2 s)
scenario s500 500,500,500 --backoff 0.2
all_delivered s500
check_eq 3 "$(summary_field s500/out retries)" "s500: retries"
check_eq 6 "$(summary_field s500/out requests)" "s500: requests"
read -r g1 g2 g3 _ <<< "$(gaps s500)"
ge "$g1" 0.1 || fail "s500: first backoff $g1 < 0.1 s"
ge "$g2" 0.2 || fail "s500: second backoff $g2 < 0.2 s"
ge "$g3" 0.4 || fail "s500: third backoff $g3 < 0.4 s"
ge "$g3" "$g1" || fail "s500: backoff did not grow ($g1 .. $g3)"
check_eq 3 "$(grep -c 'retrying in' s500/err)" "s500: retries logged"

# --- 429 with Retry-After: 2 (seconds), then with an HTTP date
scenario s429 429:2 --backoff 0.05
all_delivered s429
read -r g1 _ <<< "$(gaps s429)"
ge "$g1" 1.95 || fail "s429: Retry-After 2 not honoured (waited $g1 s)"
grep -q 'retrying in 2.0 s' s429/err || fail "s429: wait not logged"
scenario s429d 429d:3 --backoff 0.05
all_delivered s429d
read -r g1 _ <<< "$(gaps s429d)"
ge "$g1" 1.9 || fail "s429d: Retry-After date not honoured (waited $g1 s)"

# --- hang past --max-time: the receiver stored the batch, we retry, dedupe keeps one copy
scenario shang hang:4 --max-time 1 --backoff 0.05
all_delivered shang
check_eq 1 "$(summary_field shang/out retries)" "shang: retries"
grep -q 'timed out' shang/err || fail "shang: timeout not logged"
"$PY" - shang/rx/requests.jsonl <<'PY'
import json, sys
r = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda x: x["seq"])
assert r[0]["action"] == "hang:4" and r[0]["new"] == 10, r[0]
assert r[1]["idempotency_key"] == r[0]["idempotency_key"] and r[1]["dup"] == 10 and r[1]["new"] == 0, r[1]
PY

# --- a reused keep-alive connection closed without answer: libcurl resends the
# request on a fresh connection by itself; that resend is an HTTP attempt too,
# so requests matches what the receiver saw (4), with resends 1 and retries 0
scenario sresend ok,close --backoff 0.05
all_delivered sresend
check_eq 4 "$(count_lines sresend/rx/requests.jsonl)" "sresend: requests at the receiver"
check_eq 4 "$(summary_field sresend/out requests)" "sresend: requests"
check_eq 1 "$(summary_field sresend/out resends)" "sresend: resends"
check_eq 0 "$(summary_field sresend/out retries)" "sresend: retries"

# --- reset in the middle of the response; connection closed without answer
scenario sreset reset,close --backoff 0.05
all_delivered sreset
check_eq 2 "$(summary_field sreset/out retries)" "sreset: retries"
"$PY" - sreset/rx/requests.jsonl <<'PY'
import json, sys
r = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda x: x["seq"])
assert [x["action"] for x in r[:3]] == ["reset", "close", "ok"], r
assert r[2]["dup"] == 10 and r[2]["new"] == 0, r[2]
assert len({x["idempotency_key"] for x in r[:3]}) == 1, r
PY

# --- a 400 for the first batch: it goes to dead/ with the response; the others are delivered
scenario s400 400
check_eq 1 "$(cat s400/rc)" "s400: exit status"
check_eq 20 "$(summary_field s400/out delivered_alerts)" "s400: delivered"
check_eq 10 "$(summary_field s400/out dead_alerts)" "s400: dead alerts"
check_eq 2 "$(ls s400/ob/dead | wc -l)" "s400: batch + response in dead/"
grep -q '"injected rejection"' s400/ob/dead/*.response.json || fail "s400: response body not kept"
( ids_outbox s400/ob dead; ids_received s400/rx ) | sort > s400/union.ids
cmp -s all.ids s400/union.ids || fail "s400: dead + received != all"

# --- Retry-After beyond --retry-after-max: stop at once, everything pending, exit 75
scenario slong 429:600 --retry-after-max 5
check_eq 75 "$(cat slong/rc)" "slong: exit status"
check_eq 30 "$(summary_field slong/out pending_alerts)" "slong: pending alerts"
check_eq 1 "$(summary_field slong/out requests)" "slong: requests"
grep -q 'Retry-After of 600 s exceeds the limit' slong/err || fail "slong: reason not logged"

# --- 5xx for longer than the retry budget: pending, exit 75, later delivered
scenario sbudget 503,503,503,503 --retries 1 --backoff 0.05
check_eq 75 "$(cat sbudget/rc)" "sbudget: exit status"
check_eq 30 "$(summary_field sbudget/out pending_alerts)" "sbudget: pending"
check_eq 2 "$(summary_field sbudget/out requests)" "sbudget: requests"

# --- wrong token: 401 stops the push, nothing goes to dead/, exit 69
rx_stop
rm -rf s401 && mkdir s401
printf 'right-token\n' > s401/rx.token
printf 'wrong-token\n' > s401/token && chmod 600 s401/token
"$ECORISK" push --outbox s401/ob --enqueue alerts.jsonl --batch 10 --no-send 2>/dev/null
rx_start s401/rx --token-file s401/rx.token
set +e
"$ECORISK" push --outbox s401/ob --endpoint "http://127.0.0.1:$RX_PORT/cen" --insecure-http \
  --token-file s401/token > s401/out 2> s401/err
rc=$?
set -e
check_eq 69 "$rc" "s401: exit status"
check_eq 30 "$(summary_field s401/out pending_alerts)" "s401: pending"
check_eq 0 "$(ls s401/ob/dead | wc -l)" "s401: dead"
grep -q 'HTTP 401 (check the token' s401/err || fail "s401: cause not logged"
echo "push_faults: ok"
