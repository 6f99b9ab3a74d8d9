# lib.sh — shared helpers of the bench/ scripts (sourced): build if needed,
# and `measure NAME CMD...`, which runs CMD $RUNS times (default 3) and
# prints the best wall time, its CPU time, rows/s, MB/s, rows per CPU second
# (wall time means little on a loaded machine) and peak RSS (/usr/bin/time -v),
# using $rows and $bytes of the caller for the rates. Used by ingest.sh,
# baseline.sh and run.sh.
set -euo pipefail
runs=${RUNS:-3}
build=${ECORISK_BUILD:-build}

bench_build() {
  if [ ! -x "$build/ecorisk" ] || [ ! -x "$build/gen_declarations" ] || [ ! -x "$build/baseline_bench" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j2 >/dev/null
  fi
}

bench_header() {
  printf '%-34s %8s %8s %12s %9s %13s %10s\n' "tool" "wall s" "cpu s" "rows/s" "MB/s" "rows/cpu-s" "peak RSS"
}

measure() {   # name, then the command
  local name=$1; shift
  local best="" cpu=0 rss=0
  for _ in $(seq "$runs"); do
    local t w c m
    t=$( { /usr/bin/time -v "$@" >/dev/null; } 2>&1 | awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; w = s }
        /User time/ { u = $2 } /System time/ { y = $2 }
        /Maximum resident set size/ { m = $2 }
        END { print w, u + y, m }')
    read -r w c m <<< "$t"
    if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$w; cpu=$c; rss=$m; fi
  done
  last_wall=$best last_rss=$rss   # for the caller's ratios
  awk -v n="$name" -v w="$best" -v c="$cpu" -v r="$rows" -v b="$bytes" -v m="$rss" 'BEGIN {
      if (w <= 0) w = 0.001;
      if (c <= 0) c = 0.001;
      printf "%-34s %8.3f %8.3f %12.0f %9.1f %13.0f %7.1f MB\n", n, w, c, r / w, b / w / 1e6, r / c, m / 1024 }'
}
