# lib.sh — shell helpers for the delivery tests (sourced, not run): a
# scratch directory, the CEN-style receiver started and stopped on
# 127.0.0.1 with its port read from a file, alert generation and the id sets
# the tests compare. Everything started here is stopped by the EXIT trap.
set -euo pipefail
: "${ECORISK:?ECORISK must point to the ecorisk binary}"
: "${ECORISK_SRC:?ECORISK_SRC must point to the source tree}"
# The system interpreter when there is one: version-manager shims cost seconds per call on a busy machine.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
RX_PY="$ECORISK_SRC/tests/receiver/cen_receiver.py"
GEN_PY="$ECORISK_SRC/tests/receiver/gen_alerts.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/ecorisk-push.XXXXXX")
RX_PID=""
RX_PORT=""

cleanup() {
  rx_stop
  rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
check_eq() { # expected actual what
  [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# rx_start STORE_DIR [receiver options...]: start in the background, wait for the port.
rx_start() {
  local store=$1; shift
  mkdir -p "$store"
  rm -f "$store/port"
  "$PY" "$RX_PY" --store "$store" --port-file "$store/port" "$@" 2>>"$store/receiver.err" &
  RX_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$store/port" ] && break
    kill -0 "$RX_PID" 2>/dev/null || fail "receiver exited at start: $(cat "$store/receiver.err")"
    sleep 0.05
  done
  [ -s "$store/port" ] || fail "receiver did not start"
  RX_PORT=$(cat "$store/port")
}

rx_stop() {
  if [ -n "$RX_PID" ]; then
    kill "$RX_PID" 2>/dev/null || true
    wait "$RX_PID" 2>/dev/null || true
    RX_PID=""
  fi
}

# A port nothing listens on: bind port 0, note it, close it.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

gen_alerts() { "$PY" "$GEN_PY" "$@"; }

# Sorted alert ids of a JSONL file.
ids_jsonl() { "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    l=l.strip()
    if l: print(json.loads(l)["alert_id"])' "$1" | sort; }

# Sorted alert ids in an outbox state directory (pending, sent, dead).
ids_outbox() { "$PY" -c 'import json,sys,os,glob
for p in glob.glob(os.path.join(sys.argv[1], sys.argv[2], "*.json")):
    if p.endswith((".receipt.json", ".response.json")): continue
    for a in json.load(open(p)): print(a["alert_id"])' "$1" "$2" | sort; }

# Sorted unique alert ids the receiver stored (empty if nothing yet).
ids_received() { if [ -f "$1/alerts.jsonl" ]; then ids_jsonl "$1/alerts.jsonl"; fi; }

count_lines() { if [ -f "$1" ]; then grep -c . "$1" || true; else echo 0; fi; }

# JSON field of the push summary line (stdout of ecorisk push).
summary_field() { "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"; }
