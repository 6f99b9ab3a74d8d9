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
source "$ECORISK_SRC/bench/dask_lib.sh"
dask_python || { echo "skip: no python3 with the distributed module (python3-distributed)"; exit 77; }
. "$ECORISK_SRC/tests/lib.sh"   # fail, scratch directory $T, removed at exit after dask_stop
on_exit dask_stop
on_fail 'tail -n 20 "$T"/*.log >&2 || true'
PY=$DASK_PY

gen() { gawk -v n="$1" -v seed="$2" -v d0="$3" -v days="$4" -v pfx="$5" -f "$ECORISK_SRC/bench/gen_feed.awk"; }
gen 20000 7 20000 365 H >"$T/history.csv"    # 2024-10-05 .. 2025-10-04
gen 4000 11 20412 1 D >"$T/day.csv"          # 2025-11-20

# One machine.
"$ECORISK" baseline build --feed "$T/history.csv" --out "$T/single.baseline.json" -q
"$ECORISK" run --feed - --out - --baseline "$T/single.baseline.json" --as-of 2025-11-20 --threads 1 \
    <"$T/day.csv" >"$T/single.alerts.jsonl" 2>"$T/single.err"
n_single=$(wc -l <"$T/single.alerts.jsonl")
[ "$n_single" -ge 50 ] || fail "the single run gave only $n_single alerts: the comparison would prove little"
"$PY" - "$ECORISK_SRC/bench" "$T/single.err" >"$T/single.counts.json" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from dask_scaleout import counts_of
print(json.dumps(counts_of(open(sys.argv[2]).read()), sort_keys=True))
EOF

# The cluster: a scheduler and two workers of one thread, on 127.0.0.1.
dask_start "$T" 2 1 || fail "the cluster did not start"
worker_pids=("${DASK_PIDS[1]}" "${DASK_PIDS[2]}")

check() {   # DIR: the driver's outputs against the single machine
    cmp -s "$1/baseline.json" "$T/single.baseline.json" || fail "$1: merged baseline differs from one build"
    cmp -s "$1/alerts.jsonl" "$T/single.alerts.jsonl" || {
        diff <(cut -c1-300 "$1/alerts.jsonl") <(cut -c1-300 "$T/single.alerts.jsonl") | head -6 >&2
        fail "$1: merged alerts differ from the single run"
    }
    cmp -s "$1/counts.json" "$T/single.counts.json" \
        || fail "$1: counts differ: $(cat "$1/counts.json") vs $(cat "$T/single.counts.json")"
}
drive() {   # OUT [--hold DIR]
    local out=$1; shift
    timeout 120 "$PY" "$ECORISK_SRC/bench/dask_scaleout.py" --scheduler-file "$DASK_SCHED" \
        --ecorisk "$ECORISK" --history "$T/history.csv" --day "$T/day.csv" --as-of 2025-11-20 \
        --parts 4 --workers 2 --out "$out" "$@"
}

# 1. Plain run on two workers.
drive "$T/plain" >"$T/plain.json" 2>"$T/plain.log" || fail "driver failed"
grep -q '"workers": 2' "$T/plain.json" || fail "expected 2 workers: $(cat "$T/plain.json")"
check "$T/plain"

# 2. Kill -9 the worker running day partition 0 while it runs; the scheduler
#    reruns the task on the other worker.
mkdir "$T/hold"
drive "$T/killed" --hold "$T/hold" >"$T/killed.json" 2>"$T/killed.log" &
driver=$!
for _ in $(seq 300); do compgen -G "$T/hold/started.*" >/dev/null && break; sleep 0.1; done
first=$(compgen -G "$T/hold/started.*" | head -1) || fail "the held task never started"
victim=${first##*.}
[[ " ${worker_pids[*]} " == *" $victim "* ]] || fail "the held task ran in pid $victim, not a worker"
kill -9 "$victim"
for _ in $(seq 300); do
    [ "$(compgen -G "$T/hold/started.*" | wc -l)" -ge 2 ] && break
    sleep 0.1
done
[ "$(compgen -G "$T/hold/started.*" | wc -l)" -ge 2 ] || fail "the task was not rerun after its worker died"
touch "$T/hold/go"
wait "$driver" || fail "driver failed after the worker was killed"
{ wait "$victim"; } 2>/dev/null && fail "the killed worker exited normally"
second=$(compgen -G "$T/hold/started.*" | grep -v "started.$victim\$" | head -1)
[ "${second##*.}" != "$victim" ] && [[ " ${worker_pids[*]} " == *" ${second##*.} "* ]] \
    || fail "the task was not rerun on the other worker"
check "$T/killed"
echo "scale_out_dask: $n_single alerts, 2 Dask workers == single machine; again with worker $victim killed mid-task"
