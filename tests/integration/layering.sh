#!/usr/bin/env bash
# layering.sh — no dependency cycle crosses a folder of the library
# (docs/architecture.md, "Folders"): layering.py over the #include lines of
# engine/src, feeds/src and engine/include, and over the symbols the built
# library objects take from each other. First it must catch a planted cycle:
# a scratch tree whose engine/src/a and engine/src/b include each other.
# Env: ECORISK_SRC, ECORISK_BUILD.
set -euo pipefail
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
CHECK="$ECORISK_SRC/tests/integration/layering.py"

mkdir -p "$T/tree/engine/src/a" "$T/tree/engine/src/b" "$T/tree/feeds/src" "$T/tree/engine/include"
printf '#include "b/y.h"\n' > "$T/tree/engine/src/a/x.h"
printf '#include "a/z.h"\n' > "$T/tree/engine/src/b/y.h"
printf '/* no includes */\n' > "$T/tree/engine/src/a/z.h"
rc=0; "$PY" "$CHECK" "$T/tree" > "$T/planted.out" || rc=$?
check_eq 1 "$rc" "exit status on a planted include cycle ($(cat "$T/planted.out"))"
grep -qx 'include cycle across folders: engine/src/a <-> engine/src/b' "$T/planted.out" \
  || fail "planted cycle not named: $(cat "$T/planted.out")"
grep -qx '    engine/src/b/y.h includes engine/src/a/z.h' "$T/planted.out" \
  || fail "planted cycle's include not shown: $(cat "$T/planted.out")"

"$PY" "$CHECK" "$ECORISK_SRC" "${ECORISK_BUILD:?}" > "$T/out" || fail "$(cat "$T/out")"
grep -q '; 0 cycle(s) across folders$' "$T/out" || fail "no verdict: $(cat "$T/out")"
cat "$T/out"
