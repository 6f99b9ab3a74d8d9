# lib.sh — the shell test library, sourced (never run) by the scripts in
# tests/integration, tests/fault and bench after their `set` line; it changes
# no shell option. What it gives:
#   fail MSG...          print "FAIL: MSG" on stderr and exit 1 (after the
#                        commands given to on_fail)
#   check_eq EXP ACT WHAT  fail unless EXP = ACT
#   T                    a fresh scratch directory under $T_PARENT if set, else
#                        $TMPDIR (default /tmp), removed at exit (KEEP=1 keeps
#                        it and says where)
#   on_exit CMD          run CMD (a shell string) at exit, before T is removed;
#                        the last registered runs first
#   on_fail CMD          run CMD when fail is called (e.g. show a log)
#   bg_track PID         stop the background process PID at exit
#   bg_stop PID          stop it now (TERM, then wait); "" is a no-op
#   wait_for PID LOG CMD...  poll CMD every 0.05 s until it succeeds; fail
#                        with LOG's content when PID exits first or after 10 s
#   wait_port FILE PID LOG   wait_for a port file (FILE non-empty)
#   free_port            a loopback port nothing listens on
#   rx_start STORE [OPTS...]  the CEN-style receiver (receiver/cen_receiver.py)
#                        on 127.0.0.1, storing in STORE: sets RX_PID, RX_PORT
#   rx_stop              stop it
# Everything started through bg_track or rx_start is stopped by the one EXIT
# trap, also when the script fails under set -e or is killed by ctest.

# The system interpreter when there is one: version-manager shims cost seconds per call on a busy machine.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${T_PARENT:-${TMPDIR:-/tmp}}/ecorisk-$(basename "$0" .sh).XXXXXX")
RX_PID=""
RX_PORT=""
_lib_pids=()
_lib_exit=()
_lib_fail=()

fail() {
  echo "FAIL: $*" >&2
  local c
  for c in "${_lib_fail[@]}"; do eval "$c"; done
  exit 1
}

check_eq() { # expected actual what
  [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

on_exit() { _lib_exit+=("$1"); }
on_fail() { _lib_fail+=("$1"); }

bg_track() { _lib_pids+=("$1"); }

bg_stop() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local i
  for i in "${!_lib_pids[@]}"; do [ "${_lib_pids[i]}" != "$1" ] || unset '_lib_pids[i]'; done
}

_lib_cleanup() {
  local i
  for ((i = ${#_lib_exit[@]} - 1; i >= 0; i--)); do eval "${_lib_exit[i]}" || true; done
  for i in "${_lib_pids[@]}"; do bg_stop "$i"; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap _lib_cleanup EXIT

wait_for() { # pid log cmd...
  local pid=$1 log=$2; shift 2
  for _ in $(seq 1 200); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || fail "process $pid exited at start: $(cat "$log" 2>/dev/null)"
    sleep 0.05
  done
  "$@" || fail "process $pid not ready after 10 s: $(cat "$log" 2>/dev/null)"
}

wait_port() { # file pid log
  wait_for "$2" "$3" test -s "$1"
}

# A port nothing listens on: bind port 0, note it, close it.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# rx_start STORE [receiver options...]: start in the background, wait for the port.
rx_start() {
  local store=$1; shift
  mkdir -p "$store"
  rm -f "$store/port"
  "$PY" "$TESTS_DIR/receiver/cen_receiver.py" --store "$store" --port-file "$store/port" "$@" \
    2>>"$store/receiver.err" &
  RX_PID=$!
  bg_track "$RX_PID"
  wait_port "$store/port" "$RX_PID" "$store/receiver.err"
  RX_PORT=$(cat "$store/port")
}

rx_stop() {
  bg_stop "$RX_PID"
  RX_PID=""
}
