#!/usr/bin/env bash
# clean_clone.sh — README command 1 as a user runs it, on a clean clone of the
# checkout's HEAD: `docker/sample-day.sh` with nothing given installs what is
# missing (nothing, where the suite runs), builds the Release CLI, libraries,
# man pages and completions, runs the nightly job on the sample day and writes
# the report. Its alerts, quarantine and scores must equal those of the tree's
# own build run through the same script, and `cmake --install` of the clone's
# build must then stage the binary, library, headers, man pages and packs.
# Skipped outside a git checkout, and in the sanitizer build (one clone build
# per suite is enough; it takes about a minute on 2 cores).
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
if grep -q '^ECORISK_SANITIZE:BOOL=ON' "$ECORISK_BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "clean_clone: skipped in the sanitizer build (the gcc build runs it)"; exit 77
fi
command -v git > /dev/null && git -C "$ECORISK_SRC" rev-parse --verify -q HEAD > /dev/null 2>&1 ||
    { echo "clean_clone: not a git checkout"; exit 77; }

git clone -q "$ECORISK_SRC" "$T/clone"
[ ! -e "$T/clone/build" ] || fail "the clone already has a build directory"
(cd "$T/clone" && env -u ECORISK docker/sample-day.sh "$T/day") > "$T/out" 2> "$T/err" ||
    { tail -30 "$T/err"; fail "docker/sample-day.sh failed in a clean clone"; }
[ -x "$T/clone/build/ecorisk" ] || fail "the clone's build has no ecorisk binary"
for f in alerts.jsonl quarantine.jsonl summary.json metrics.prom scores.csv report.html; do
    [ -s "$T/day/$f" ] || fail "$f missing"
done
grep -q "^alerts:.*($(wc -l < "$T/day/alerts.jsonl") alerts)" "$T/out" || fail "no alert count printed"
grep -q "why was .* flagged" "$T/out" || fail "no explain hint printed"

# the same day through the tree's own binary: the same alerts, quarantine and scores
(cd "$T/clone" && ECORISK="$ECORISK" docker/sample-day.sh "$T/ref") > /dev/null 2>&1 ||
    fail "docker/sample-day.sh with the tree's binary"
for f in alerts.jsonl quarantine.jsonl scores.csv; do
    cmp -s "$T/day/$f" "$T/ref/$f" || fail "$f of the clean clone differs from the tree's build"
done
python3 - "$T/day/summary.json" <<'PY' || fail "summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["rows"] == {"read": 2031, "accepted": 2005, "quarantined": 26, "reconciled": True}, s["rows"]
PY

# then the README's "A clean clone can then `cmake --install build`"
DESTDIR="$T/stage" cmake --install "$T/clone/build" --prefix /opt/ecorisk > /dev/null 2> "$T/err" ||
    { cat "$T/err"; fail "cmake --install of the clone's build"; }
for f in bin/ecorisk include/ecorisk/run.h share/man/man1/ecorisk.1 share/ecorisk/profiles/wildlife.json; do
    [ -s "$T/stage/opt/ecorisk/$f" ] || fail "install staged no $f"
done
ls "$T/stage/opt/ecorisk"/lib*/libecorisk.so* > /dev/null 2>&1 || fail "install staged no shared library"
"$T/stage/opt/ecorisk/bin/ecorisk" --version | grep -q . || fail "the staged binary does not run"
echo "clean_clone: ok"
