#!/usr/bin/env bash
# cli_usage.sh — command-line mistakes get one short, exact message and exit 64
# (docs/operations.md#command-line): a group without its sub-command, typos of
# commands and options with a suggestion, an option without its value; and
# `ecorisk help COMMAND` prints that command's help. Also: completion, man page
# sections, explain --output text, --log-format json fields, and --help on every
# script.
set -uo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
E=${ECORISK:?}
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

expect() {   # exit-code, exact stderr, args...
  local code=$1 want=$2
  shift 2
  "$E" "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "ecorisk $*: exit $rc, expected $code ($(cat "$T/err"))"
  [ "$(cat "$T/err")" = "$want" ] || fail "ecorisk $*: stderr '$(cat "$T/err")', expected '$want'"
}

expect 64 "ecorisk: 'baseline' needs a sub-command: build, merge, convert, show (e.g. 'ecorisk baseline build --help')" baseline
expect 64 "ecorisk: unknown command 'baseline biuld' (did you mean 'baseline build'?); 'baseline' takes one of: build, merge, convert, show" baseline biuld
expect 64 "ecorisk: unknown command 'rnu' (did you mean 'run'?); 'ecorisk --help' lists the commands" rnu
expect 64 "ecorisk: unknown command 'frobnicate'; 'ecorisk --help' lists the commands" frobnicate
expect 64 "ecorisk run: option --feed needs a value (FILE)" run --feed
expect 64 "ecorisk run: option --feed needs a value (FILE)" run -f
expect 64 "ecorisk run: unknown option --fed (did you mean --feed? see 'ecorisk run --help')" run --fed x.csv
expect 64 "ecorisk run: unknown option --colour (see 'ecorisk run --help')" run --colour
expect 64 "ecorisk help: unknown command 'nope'; 'ecorisk --help' lists the commands" help nope
expect 64 "ecorisk man: unknown command 'explian' (did you mean 'explain'?); 'ecorisk --help' lists the commands" man explian

# help COMMAND is the command's --help, byte for byte
"$E" help baseline build > "$T/a" || fail "help baseline build"
"$E" baseline build --help > "$T/b" || fail "baseline build --help"
cmp -s "$T/a" "$T/b" || fail "help baseline build differs from --help"
head -1 "$T/a" | grep -q '^Usage: ecorisk baseline build ' || fail "help baseline build: $(head -1 "$T/a")"

# a repeatable option says so once
"$E" explain --help | grep -q -- '--feed FILE *feed holding the declaration (required) (repeatable)$' || fail "explain --feed help"
! "$E" explain --help | grep -q 'repeatable).*repeatable' || fail "repeatable twice"
# man pages: every command's page has EXAMPLES, ENVIRONMENT and FILES
while IFS= read -r name; do
  # shellcheck disable=SC2086
  page=$("$E" man $name)
  for sec in EXAMPLES ENVIRONMENT FILES; do
    grep -q "^\.SH $sec\$" <<<"$page" || fail "man $name: no $sec section"
  done
done < <("$E" man --list)
"$E" man run > "$T/run.1"
grep -q '^\.B ecorisk run \\-\\-feed day.csv.gz' "$T/run.1" || fail "man run: example"

# completion scripts come from the option tables
"$E" completion bash > "$T/comp.bash" || fail "completion bash"
bash -n "$T/comp.bash" || fail "completion bash: syntax"
got=$(bash -c '. "$1"; COMP_WORDS=(ecorisk run --max-q); COMP_CWORD=2; _ecorisk; echo "${COMPREPLY[*]}"' _ "$T/comp.bash")
[ "$got" = "--max-quarantine-share" ] || fail "completion of 'run --max-q': '$got'"
"$E" completion zsh > "$T/comp.zsh" || fail "completion zsh exited $?"
[ "$(head -1 "$T/comp.zsh")" = "#compdef ecorisk" ] || fail "completion zsh: $(head -1 "$T/comp.zsh")"
expect 64 "ecorisk completion: expected bash or zsh" completion fish

# explain --output text: a dozen readable lines (json stays the default off a terminal)
S="$ECORISK_SRC/feeds/samples"
"$E" explain -q --output text --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --id 26NLLMAN0000001796 > "$T/ex.txt"
[ "$(sed -n 1p "$T/ex.txt")" = "26NLLMAN0000001796  2026-01-05  HS 030192  NL > CN  (line 1797 of $S/sample-day.csv)" ] || fail "explain text: $(cat "$T/ex.txt")"
grep -q '^alert: wl-glass-eels (Live glass eels from Europe to Asia by air), score 100, lane red$' "$T/ex.txt" || fail "explain text alert: $(cat "$T/ex.txt")"
grep -q '^  +5   declared as live eels (0301.92)$' "$T/ex.txt" || fail "explain text reason"
[ "$(wc -l < "$T/ex.txt")" -le 20 ] || fail "explain text: $(wc -l < "$T/ex.txt") lines"
"$E" explain -q --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --id 26NLLMAN0000001796 > "$T/ex.json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/ex.json" || fail "explain to a file is not JSON"

# --log-format json: every stderr line is one JSON object (ts, level, msg), and the
# line that ends a run carries its figures as fields, equal to summary.json's
"$E" run --feed "$S/sample-day.csv" --baseline "$S/baseline.json" --out "$T/lj" --log-format json \
  2> "$T/lj.log" > /dev/null || fail "run --log-format json exited $?"
python3 - "$T/lj.log" "$T/lj/summary.json" <<'PY' || fail "json log: $(cat "$T/lj.log")"
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", l["ts"]) and l["level"] in ("error", "warn", "info", "debug") and l["msg"], l
end = [l for l in lines if "run_id" in l]
assert len(end) == 1, end
e, s = end[0], json.load(open(sys.argv[2]))
a = s["alerts"]
want = {"run_id": s["run_id"], "rows_read": s["rows"]["read"], "accepted": s["rows"]["accepted"],
        "quarantined": s["rows"]["quarantined"], "alerts": a["total"], **a["by_lane"], **a["by_domain"]}
got = {k: e[k] for k in want}
assert got == want, (got, want)
assert abs(e["quarantine_share"] - s["quarantine"]["share"]) < 1e-6 and e["seconds"] >= 0, e
PY

# every script a user runs answers --help with its header, without doing anything
# (the sourced libraries bench/lib.sh and bench/dask_lib.sh excepted)
cd "$ECORISK_SRC"
for s in tests/run.sh tests/fuzz/run.sh docker/*.sh bench/*.sh feeds/samples/*.sh; do
  case "$s" in bench/lib.sh|bench/dask_lib.sh) continue ;; esac
  out=$(timeout 20 bash "$ECORISK_SRC/$s" --help) || fail "$s --help exited $?"
  [ "$(head -1 <<<"$out" | cut -d' ' -f1)" = "$(basename "$s")" ] || fail "$s --help: $(head -1 <<<"$out")"
done
echo ok
