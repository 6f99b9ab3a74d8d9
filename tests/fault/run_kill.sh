#!/usr/bin/env bash
# run_kill.sh — `ecorisk run` output as one transaction (docs/operations.md,
# "Outputs: one transaction"). 100 runs killed with SIGKILL at random points:
# after each, --out holds exactly the previous set or exactly the new one (by
# summary.json's manifest: same files, sizes and SHA-256), never a mix, never
# nothing. Then: a second run on a locked --out exits 75 and changes nothing;
# symlinks planted where the old code wrote (.summary.json.tmp) and as the lock
# file are never followed; a disk-full run (ulimit -f) exits 74 with the old
# set intact; a re-run without --all-scores leaves no stale scores.csv; an
# output that cannot be created exits 73.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
E="${ECORISK_WRAP:-} $ECORISK"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
CHECK="python3 $ECORISK_SRC/tests/fault/check_runout.py"
cd "$T"

"$ECORISK_BUILD/gen_declarations" -n 20000 --seed 1 --start 2026-11-20 --days 1 -o old.csv
"$ECORISK_BUILD/gen_declarations" -n 20000 --seed 2 --start 2026-11-20 --days 1 -o new.csv

$E run --feed old.csv --out out --all-scores --threads 2 2>/dev/null || fail "old run"
OLD=$($CHECK out) || fail "old set"
ms=100000
for _ in 1 2 3; do  # the fastest of three runs: kills land within a run's time
  start=$(date +%s%N)
  $E run --feed new.csv --out ref --all-scores --threads 2 2>/dev/null || fail "reference new run"
  t=$(( ($(date +%s%N) - start) / 1000000 )); [ "$t" -lt "$ms" ] && ms=$t
done
NEW=$($CHECK ref) || fail "new set"
[ "$OLD" != "$NEW" ] || fail "old and new run ids equal"
$E run --feed old.csv --out out --all-scores --threads 2 2>/dev/null || fail "old run again"

# 100 kills at random points, alternating the target set: after each, a snapshot
# of --out; all are checked at the end (old or new, whole). The kill falls
# uniformly in [0, U] ms; U adapts as a staircase (up 10% after a kill mid-run,
# down 30% after a run that finished first), which settles where about three
# kills in four land mid-run whatever the machine's speed: a fixed window from a
# timed reference run is not enough, since a run in the loop can be several
# times slower than the reference (page cache, fsync, a busy CI host).
runid() { grep -o '"run_id": "[0-9a-f]*"' "$1/summary.json" | cut -d'"' -f4; }
RANDOM=$$
kills=0 finished=0 U=$ms
mkdir snaps
: > snaps.list
for i in $(seq 1 100); do
  cur=$(runid out)
  if [ "$cur" = "$OLD" ]; then feed=new.csv other=$NEW; else feed=old.csv other=$OLD; fi
  $E run --feed $feed --out out --all-scores --threads 2 2>/dev/null &
  pid=$!
  d=$(( (RANDOM * 32768 + RANDOM) % (U + 1) ))
  sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  rc=0; wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1)); U=$(( U * 110 / 100 + 1 ))
  else
    finished=$((finished + 1)); U=$(( U * 70 / 100 )); [ "$U" -ge 1 ] || U=1
  fi
  cp -a out "snaps/$i"
  echo "snaps/$i $cur $other" >> snaps.list
done
$CHECK --list snaps.list > snaps.ids || fail "a killed run left neither exactly the old nor exactly the new set"
n_checked=$(wc -l < snaps.ids)
n_prev=$(paste -d' ' snaps.list snaps.ids | awk '$4 == $2' | wc -l)
echo "kills: $kills killed mid-run, $finished finished first; sets checked: $n_checked" \
     "(previous set $n_prev, new set $((n_checked - n_prev))), mixed or missing: 0"
[ "$n_checked" -eq 100 ] || fail "checked $n_checked sets"
[ "$kills" -ge 50 ] || fail "only $kills runs were killed mid-run"
[ "$n_prev" -ge 10 ] && [ $((n_checked - n_prev)) -ge 1 ] || fail "kills did not cover both outcomes"
rm -rf snaps
# A completed run after all that publishes the new set and leaves no staging directory behind.
$E run --feed new.csv --out out --all-scores --threads 2 2>/dev/null || fail "final run"
[ "$($CHECK out)" = "$NEW" ] || fail "final set"
cmp -s out/alerts.jsonl ref/alerts.jsonl || fail "final alerts differ from the reference run"
left=$(find . -maxdepth 1 -name '.out.run-*' | wc -l)
[ "$left" -eq 0 ] || fail "$left staging directories left after a completed run"

# Lock: another run holding .out.lock -> exit 75, nothing changes.
python3 - <<'PY' &
import fcntl, os, time
fd = os.open(".out.lock", os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
open("locked", "w").close()
time.sleep(5)
PY
lpid=$!
for _ in $(seq 1 50); do [ -e locked ] && break; sleep 0.1; done
rc=0; $E run --feed old.csv --out out 2>lock.err || rc=$?
[ "$rc" -eq 75 ] || fail "locked --out: exit $rc, expected 75"
grep -q "another run is writing this output directory" lock.err || fail "lock message: $(cat lock.err)"
[ "$($CHECK out)" = "$NEW" ] || fail "locked run changed the set"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null || true

# Two runs at once, five times: each exits 0 or 75 (75 with the lock message), at
# least one exits 0, and the set is the one the run that exited 0 wrote, complete.
for k in 1 2 3 4 5; do
  $E run --feed old.csv --out pair$k --threads 1 2>pair$k.e1 & p1=$!
  $E run --feed new.csv --out pair$k --threads 1 2>pair$k.e2 & p2=$!
  r1=0; wait $p1 || r1=$?; r2=0; wait $p2 || r2=$?
  { [ $r1 -eq 0 ] || [ $r1 -eq 75 ]; } && { [ $r2 -eq 0 ] || [ $r2 -eq 75 ]; } \
    && [ $((r1 + r2)) -lt 150 ] || fail "concurrent exits $r1 $r2"
  for r in 1 2; do
    rr=$r1; [ $r = 2 ] && rr=$r2
    [ $rr -ne 75 ] || grep -q "another run is writing this output directory" pair$k.e$r || fail "pair $k: exit 75 without the lock message"
  done
  want=""; [ $r1 -eq 0 ] && want="$want $OLD"; [ $r2 -eq 0 ] && want="$want $NEW"
  # shellcheck disable=SC2086
  $CHECK pair$k $want >/dev/null || fail "concurrent runs $k (exits $r1 $r2) left a broken set"
done

# Planted symlinks are never followed.
echo victim > victim
ln -s "$T/victim" out/.summary.json.tmp
ln -s "$T/victim" out/.alerts.jsonl.tmp
$E run --feed old.csv --out out 2>/dev/null || fail "run with planted tmp symlinks"
[ "$(cat victim)" = victim ] || fail "a planted symlink was followed"
$CHECK out "$OLD" >/dev/null || fail "set after planted symlinks"
mkdir lk && ln -s "$T/victim" lk/.o.lock
rc=0; $E run --feed old.csv --out lk/o 2>/dev/null || rc=$?
[ "$rc" -eq 73 ] || fail "symlinked lock file: exit $rc, expected 73"
[ "$(cat victim)" = victim ] && [ ! -e lk/o ] || fail "symlinked lock file followed"

# Disk full (ulimit -f, SIGXFSZ ignored so writes fail with EFBIG): exit 74, old set intact.
$E run --feed old.csv --out full --all-scores 2>/dev/null || fail "run before disk full"
before=$($CHECK full)
rc=0; ( trap '' XFSZ; ulimit -f 64; exec $E run --feed new.csv --out full --all-scores 2>full.err ) || rc=$?
[ "$rc" -eq 74 ] || fail "disk full: exit $rc, expected 74 ($(cat full.err))"
[ "$($CHECK full)" = "$before" ] || fail "disk full changed the set"
[ "$(find . -maxdepth 1 -name '.full.run-*' | wc -l)" -eq 0 ] || fail "disk full left a staging directory"

# A re-run without --all-scores: no stale scores.csv beside the new alerts.
$E run --feed new.csv --out out 2>/dev/null || fail "run without --all-scores"
[ ! -e out/scores.csv ] || fail "stale scores.csv beside a new set"
$CHECK out "$NEW" >/dev/null || fail "set without scores"

# An output that cannot be created: 73.
rc=0; $E run --feed old.csv --out /dev/null/x 2>/dev/null || rc=$?
[ "$rc" -eq 73 ] || fail "uncreatable --out: exit $rc, expected 73"
echo "run_kill: ok"
