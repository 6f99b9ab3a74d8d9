#!/usr/bin/env bash
# scale_out_dask.sh — the scale-out recipe of docs/scaling.md on a real engine:
# a Dask distributed scheduler and two worker processes on 127.0.0.1, driven by
# bench/dask_scaleout.py (shard baselines built as streams on the workers and
# merged; the day's partitions scored as streams on the workers; alerts merged
# into risk order and counts added). Checks against one machine, byte for
# byte: the baseline, the alerts (declaration.line included) and the counts —
# once plainly, once with a worker killed (SIGKILL) while its task runs, the
# scheduler rerunning the task on the other worker.
# Skipped (77) only when no python3 can import distributed (Debian:
# python3-distributed, installed by docker/install-deps.sh).
# Env: ECORISK, ECORISK_SRC.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}"
[ -z "${ECORISK_WRAP:-}" ] || { echo "skip: worker processes are not run under a wrapper"; exit 77; }
PY=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import distributed' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "skip: no python3 with the distributed module (python3-distributed)"; exit 77; }

tmp=$(mktemp -d)
pids=()
stop() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap stop EXIT
fail() {
    echo "FAIL: $*" >&2
    tail -n 20 "$tmp"/*.log >&2 || true
    exit 1
}
export DASK_CONFIG=$tmp/dask-config        # no user configuration

gen() { gawk -v n="$1" -v seed="$2" -v d0="$3" -v days="$4" -v pfx="$5" -f "$ECORISK_SRC/bench/gen_feed.awk"; }
gen 20000 7 20000 365 H >"$tmp/history.csv"    # 2024-10-05 .. 2025-10-04
gen 4000 11 20412 1 D >"$tmp/day.csv"          # 2025-11-20

# One machine.
"$ECORISK" baseline build --feed "$tmp/history.csv" --out "$tmp/single.baseline.json" -q
"$ECORISK" run --feed - --out - --baseline "$tmp/single.baseline.json" --as-of 2025-11-20 --threads 1 \
    <"$tmp/day.csv" >"$tmp/single.alerts.jsonl" 2>"$tmp/single.err"
n_single=$(wc -l <"$tmp/single.alerts.jsonl")
[ "$n_single" -ge 50 ] || fail "the single run gave only $n_single alerts: the comparison would prove little"
"$PY" - "$ECORISK_SRC/bench" "$tmp/single.err" >"$tmp/single.counts.json" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from dask_scaleout import counts_of
print(json.dumps(counts_of(open(sys.argv[2]).read()), sort_keys=True))
EOF

# The cluster: loopback only, no dashboard; workers without a nanny, so that
# SIGKILL removes a worker for good.
"$PY" -m distributed.cli.dask_scheduler --host 127.0.0.1 --port 0 --no-dashboard \
    --dashboard-address 127.0.0.1:0 --scheduler-file "$tmp/sched.json" >"$tmp/sched.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$tmp/sched.json" ] && break; sleep 0.1; done
[ -s "$tmp/sched.json" ] || fail "the scheduler did not start within 30 s"
for w in 0 1; do
    "$PY" -m distributed.cli.dask_worker --scheduler-file "$tmp/sched.json" --host 127.0.0.1 \
        --nthreads 1 --nworkers 1 --no-nanny --no-dashboard --dashboard-address 127.0.0.1:0 \
        --name "w$w" --local-directory "$tmp/w$w" --death-timeout 30 >"$tmp/w$w.log" 2>&1 &
    pids+=($!)
done
worker_pids=("${pids[1]}" "${pids[2]}")

check() {   # DIR: the driver's outputs against the single machine
    cmp -s "$1/baseline.json" "$tmp/single.baseline.json" || fail "$1: merged baseline differs from one build"
    cmp -s "$1/alerts.jsonl" "$tmp/single.alerts.jsonl" || {
        diff <(cut -c1-300 "$1/alerts.jsonl") <(cut -c1-300 "$tmp/single.alerts.jsonl") | head -6 >&2
        fail "$1: merged alerts differ from the single run"
    }
    cmp -s "$1/counts.json" "$tmp/single.counts.json" \
        || fail "$1: counts differ: $(cat "$1/counts.json") vs $(cat "$tmp/single.counts.json")"
}
drive() {   # OUT [--hold DIR]
    local out=$1; shift
    timeout 120 "$PY" "$ECORISK_SRC/bench/dask_scaleout.py" --scheduler-file "$tmp/sched.json" \
        --ecorisk "$ECORISK" --history "$tmp/history.csv" --day "$tmp/day.csv" --as-of 2025-11-20 \
        --parts 4 --out "$out" "$@"
}

# 1. Plain run on two workers.
drive "$tmp/plain" >"$tmp/plain.json" 2>"$tmp/plain.log" || fail "driver failed"
grep -q '"workers": 2' "$tmp/plain.json" || fail "expected 2 workers: $(cat "$tmp/plain.json")"
check "$tmp/plain"

# 2. Kill -9 the worker running day partition 0 while it runs; the scheduler
#    reruns the task on the other worker.
mkdir "$tmp/hold"
drive "$tmp/killed" --hold "$tmp/hold" >"$tmp/killed.json" 2>"$tmp/killed.log" &
driver=$!
for _ in $(seq 300); do compgen -G "$tmp/hold/started.*" >/dev/null && break; sleep 0.1; done
first=$(compgen -G "$tmp/hold/started.*" | head -1) || fail "the held task never started"
victim=${first##*.}
[[ " ${worker_pids[*]} " == *" $victim "* ]] || fail "the held task ran in pid $victim, not a worker"
kill -9 "$victim"
for _ in $(seq 300); do
    [ "$(compgen -G "$tmp/hold/started.*" | wc -l)" -ge 2 ] && break
    sleep 0.1
done
[ "$(compgen -G "$tmp/hold/started.*" | wc -l)" -ge 2 ] || fail "the task was not rerun after its worker died"
touch "$tmp/hold/go"
wait "$driver" || fail "driver failed after the worker was killed"
{ wait "$victim"; } 2>/dev/null && fail "the killed worker exited normally"
second=$(compgen -G "$tmp/hold/started.*" | grep -v "started.$victim\$" | head -1)
[ "${second##*.}" != "$victim" ] && [[ " ${worker_pids[*]} " == *" ${second##*.} "* ]] \
    || fail "the task was not rerun on the other worker"
check "$tmp/killed"
echo "scale_out_dask: $n_single alerts, 2 Dask workers == single machine; again with worker $victim killed mid-task"
