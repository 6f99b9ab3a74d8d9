#!/usr/bin/env bash
# dask_scaleout.sh — throughput of the Dask scale-out (bench/dask_scaleout.py)
# on a loopback cluster of WORKERS workers of one thread each (default 2),
# next to one machine in the same invocation: `ecorisk baseline build` over the
# whole history and `ecorisk run --threads WORKERS --out -` over the whole day.
# The outputs must be byte-identical (baseline, alerts, counts). Synthetic day
# of ROWS rows (default 1,000,000) and history of HISTORY rows (default
# 1,000,000), both from gen_declarations.
#   bench/dask_scaleout.sh [ROWS] [HISTORY] [WORKERS] [PARTS]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
source bench/dask_lib.sh
rows=${1:-1000000}
hist_rows=${2:-1000000}
workers=${3:-2}
parts=${4:-8}
bench_build
dask_python || { echo "dask_scaleout.sh: no python3 with distributed (apt-get install python3-distributed)" >&2; exit 1; }
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
day=$out/dask-day-$rows.csv
hist=$out/dask-history-$hist_rows.csv
[ -s "$day" ] || "$build/gen_declarations" -n "$rows" --seed 21 --start 2026-11-24 --anomaly-rate 0.002 -o "$day"
[ -s "$hist" ] || "$build/gen_declarations" -n "$hist_rows" --seed 20 --start 2025-11-24 --days 365 -o "$hist"
T_PARENT=$out
. tests/lib.sh   # scratch directory $T in $out, removed at exit after dask_stop
on_exit dask_stop
work=$T
echo "day: $day ($rows rows, $(stat -c %s "$day") bytes); history: $hist ($hist_rows rows)"
echo "cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); $workers workers x 1 thread, $parts partitions"

t0=$(date +%s.%N)
"$build/ecorisk" baseline build --feed "$hist" --out "$work/single.baseline.json" -q
t1=$(date +%s.%N)
"$build/ecorisk" run --feed - --out - --baseline "$work/single.baseline.json" --as-of 2026-11-24 \
    --threads "$workers" <"$day" >"$work/single.alerts.jsonl" 2>"$work/single.err"
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v r="$rows" 'BEGIN {
    printf "one machine:  baseline %.1f s, run %.1f s (%.0f rows/s)\n", b - a, c - b, r / (c - b) }'

dask_start "$work" "$workers" 1
"$DASK_PY" bench/dask_scaleout.py --scheduler-file "$DASK_SCHED" --ecorisk "$build/ecorisk" \
    --history "$hist" --day "$day" --as-of 2026-11-24 --parts "$parts" --workers "$workers" \
    --out "$work/dask" >"$work/dask.json"
"$DASK_PY" - "$work/dask.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("dask cluster: baseline %.1f s, run %.1f s (%d rows/s, %d alerts; %d workers, %d partitions)"
      % (d["baseline_s"], d["score_s"], d["day_rows_per_s"], d["alerts"], d["workers"], d["day_parts"]))
PYEOF
"$DASK_PY" - bench "$work/single.err" >"$work/single.counts.json" <<'PYEOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from dask_scaleout import counts_of
print(json.dumps(counts_of(open(sys.argv[2]).read()), sort_keys=True))
PYEOF
same=yes
cmp -s "$work/dask/baseline.json" "$work/single.baseline.json" || { same=no; echo "baseline differs" >&2; }
cmp -s "$work/dask/alerts.jsonl" "$work/single.alerts.jsonl" || { same=no; echo "alerts differ" >&2; }
cmp -s "$work/dask/counts.json" "$work/single.counts.json" || { same=no; echo "counts differ" >&2; }
echo "byte-identical to one machine (baseline, alerts, counts): $same"
[ "$same" = yes ]
