#!/usr/bin/env bash
# profile_lint.sh — the real `ecorisk profile lint` and `profile show` on the
# shipped packs and the broken fixtures: exact output lines and exit codes
# (0 clean, 1 errors, 65 not JSON, 66 missing; --strict turns warnings into 1).
set -euo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
: "${ECORISK:?}" "${ECORISK_SRC:?}"
B="$ECORISK_SRC/tests/fixtures/profiles/broken"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

expect_rc() {   # expected-rc, then the command
  local want=$1; shift
  set +e; "$@" >"$T/out" 2>"$T/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $rc, expected $want"; }
}

# shipped packs (default folder and explicit): clean
expect_rc 0 "$ECORISK" profile lint --today 2026-11-25
[ ! -s "$T/out" ] || { cat "$T/out"; fail "shipped packs print messages"; }
grep -q "23 profiles checked: 0 errors, 0 warnings" "$T/err" || fail "summary: $(cat "$T/err")"
expect_rc 0 "$ECORISK" profile lint --today 2026-11-25 "$ECORISK_SRC/profiles/wildlife.json" "$ECORISK_SRC/profiles/ods.json"
grep -q "15 profiles checked" "$T/err" || fail "two packs: $(cat "$T/err")"

# one error class per file, exact line
check() {   # file, expected rc, expected stdout line
  expect_rc "$2" "$ECORISK" profile lint -q --today 2026-11-25 "$B/$1"
  local got; got=$(cat "$T/out")
  [ "$got" = "$3" ] || fail "$1: got '$got', expected '$3'"
}
check weight-range.json 1 "$B/weight-range.json: profiles[0].indicators[1].weight: weight 150 out of range (expected 0 to 100)"
check unknown-list.json 1 "$B/unknown-list.json: profiles[0].indicators[0].when.in_list: unknown list \"no-such-list\" (expected a file no-such-list.txt or no-such-list.json in $B/lists)"
check invalid-hs-list.json 1 "$B/lists/bad-hs.txt: line 5: invalid HS code \"05079X\" (expected 2 to 10 digits; dots and spaces are ignored)"
check validity-ended.json 0 "$B/validity-ended.json: profiles[0].valid_until: warning: validity ended on 2025-06-30 (today is 2026-11-25); declarations dated after it are out of scope"
check validity-ends-soon.json 0 "$B/validity-ends-soon.json: profiles[0].valid_until: warning: validity ends on 2027-02-22, in 89 days (today is 2026-11-25); declarations dated after it will be out of scope"
check review-overdue.json 0 "$B/review-overdue.json: profiles[0].review_by: warning: review overdue since 2026-11-24 (today is 2026-11-25)"
check not-json.json 65 "$B/not-json.json: invalid JSON at line 3, column 27: quoted object property name expected (expected a JSON document)"

# the whole broken folder: every file reported, errors → 1 (65 because one file is not JSON)
expect_rc 65 "$ECORISK" profile lint -q --today 2026-11-25 "$B"
[ "$(grep -c ': ' "$T/out")" -ge 17 ] || fail "folder: $(wc -l <"$T/out") lines"

# warnings: exit 0, with --strict exit 1
expect_rc 0 "$ECORISK" profile lint -q --today 2026-11-25 "$B/warnings.json"
[ "$(grep -c ': warning: ' "$T/out")" -eq 5 ] || fail "warnings: $(cat "$T/out")"
expect_rc 1 "$ECORISK" profile lint -q --strict --today 2026-11-25 "$B/warnings.json"

# missing file
expect_rc 66 "$ECORISK" profile lint -q "$B/nope.json"
grep -q "nope.json: cannot open: No such file or directory" "$T/err" "$T/out" || fail "missing: $(cat "$T/err")"

# a pack whose validity ended still loads: the window applies to declaration dates
expect_rc 0 "$ECORISK" profile show -q --today 2026-11-25 --profiles "$B/validity-ended.json" t-base
grep -q "^valid: *2025-01-01 .. 2025-06-30" "$T/out" || fail "show on ended pack: $(cat "$T/out")"

# the shipped packs carry a review date: lint warns 90 days ahead, never fails
expect_rc 0 "$ECORISK" profile lint -q --today 2027-11-25 "$ECORISK_SRC/profiles/ods.json"
[ "$(sed -n 1p "$T/out")" = "$ECORISK_SRC/profiles/ods.json: profiles[0].review_by: warning: review due on 2027-12-31, in 36 days (today is 2027-11-25)" ] || fail "review notice: $(cat "$T/out")"
expect_rc 0 "$ECORISK" profile lint -q --today 2026-11-25 "$ECORISK_SRC/profiles/ods.json"
[ ! -s "$T/out" ] || fail "no notice expected a year ahead: $(cat "$T/out")"

# show
expect_rc 0 "$ECORISK" profile show --today 2026-11-25 ods-hcfc-as-hfc
grep -q "^ods-hcfc-as-hfc (version 2) — HCFCs or CFCs declared as HFCs or HFC blends$" "$T/out" || fail "show title"
grep -q "description contains a keyword of list ods-keywords:" "$T/out" || fail "show keywords"
grep -q "  hfc-hs-2022: 18 entries" "$T/out" || fail "show list provenance: $(cat "$T/out")"
expect_rc 66 "$ECORISK" profile show --today 2026-11-25 no-such-profile
expect_rc 64 "$ECORISK" profile show --today 2026-11-25
echo "profile_lint: ok"
