# dask_lib.sh — a Dask distributed cluster on 127.0.0.1 for bench/dask_scaleout.sh
# and tests/integration/scale_out_dask.sh (sourced). Loopback only: scheduler
# and workers bind 127.0.0.1, their HTTP servers too (dashboard off); workers
# run without a nanny, so a killed worker stays dead and its tasks move.
#   dask_python             sets DASK_PY to a python3 that imports distributed (or returns 1)
#   dask_start DIR N [T]    scheduler + N workers of T threads (default 1), files in DIR;
#                           sets DASK_SCHED (scheduler file) and DASK_PIDS (scheduler first)
#   dask_stop               stops them (TERM, then KILL after 5 s) and reaps them
DASK_PIDS=()

dask_python() {
    local p
    for p in python3 /usr/bin/python3; do
        if command -v "$p" >/dev/null && "$p" -c 'import distributed' 2>/dev/null; then
            DASK_PY=$p
            return 0
        fi
    done
    return 1
}

dask_start() {
    local dir=$1 n=$2 t=${3:-1} w
    export DASK_CONFIG=$dir/dask-config          # no user configuration
    DASK_SCHED=$dir/sched.json
    "$DASK_PY" -m distributed.cli.dask_scheduler --host 127.0.0.1 --port 0 --no-dashboard \
        --dashboard-address 127.0.0.1:0 --scheduler-file "$DASK_SCHED" >"$dir/sched.log" 2>&1 &
    DASK_PIDS+=($!)
    for _ in $(seq 300); do [ -s "$DASK_SCHED" ] && break; sleep 0.1; done
    [ -s "$DASK_SCHED" ] || { echo "dask_start: no scheduler within 30 s" >&2; return 1; }
    for ((w = 0; w < n; w++)); do
        "$DASK_PY" -m distributed.cli.dask_worker --scheduler-file "$DASK_SCHED" --host 127.0.0.1 \
            --nthreads "$t" --nworkers 1 --no-nanny --no-dashboard --dashboard-address 127.0.0.1:0 \
            --name "w$w" --local-directory "$dir/w$w" --death-timeout 30 >"$dir/w$w.log" 2>&1 &
        DASK_PIDS+=($!)
    done
}

dask_stop() {
    local p
    for p in "${DASK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${DASK_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        { wait "$p"; } 2>/dev/null || true
    done
    DASK_PIDS=()
}
