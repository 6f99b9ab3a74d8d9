#!/usr/bin/env bash
# cli_usage.sh — command-line mistakes get one short, exact message and exit 64
# (docs/operations.md#command-line): a group without its sub-command, typos of
# commands and options with a suggestion, an option without its value; and
# `ecorisk help COMMAND` prints that command's help.
set -uo pipefail
. "${ECORISK_SRC:?}/tests/wrap.sh"   # valgrind in tests/run.sh stage 5
E=${ECORISK:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

expect() {   # exit-code, exact stderr, args...
  local code=$1 want=$2
  shift 2
  "$E" "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "ecorisk $*: exit $rc, expected $code ($(cat "$tmp/err"))"
  [ "$(cat "$tmp/err")" = "$want" ] || fail "ecorisk $*: stderr '$(cat "$tmp/err")', expected '$want'"
}

expect 64 "ecorisk: 'baseline' needs a sub-command: build, merge, show (e.g. 'ecorisk baseline build --help')" baseline
expect 64 "ecorisk: unknown command 'baseline biuld' (did you mean 'baseline build'?); 'baseline' takes one of: build, merge, show" baseline biuld
expect 64 "ecorisk: unknown command 'rnu' (did you mean 'run'?); 'ecorisk --help' lists the commands" rnu
expect 64 "ecorisk: unknown command 'frobnicate'; 'ecorisk --help' lists the commands" frobnicate
expect 64 "ecorisk run: option --feed needs a value (FILE)" run --feed
expect 64 "ecorisk run: option --feed needs a value (FILE)" run -f
expect 64 "ecorisk run: unknown option --fed (did you mean --feed? see 'ecorisk run --help')" run --fed x.csv
expect 64 "ecorisk run: unknown option --colour (see 'ecorisk run --help')" run --colour
expect 64 "ecorisk help: unknown command 'nope'; 'ecorisk --help' lists the commands" help nope
expect 64 "ecorisk man: unknown command 'explian' (did you mean 'explain'?); 'ecorisk --help' lists the commands" man explian

# help COMMAND is the command's --help, byte for byte
"$E" help baseline build > "$tmp/a" || fail "help baseline build"
"$E" baseline build --help > "$tmp/b" || fail "baseline build --help"
cmp -s "$tmp/a" "$tmp/b" || fail "help baseline build differs from --help"
head -1 "$tmp/a" | grep -q '^Usage: ecorisk baseline build ' || fail "help baseline build: $(head -1 "$tmp/a")"

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
"$E" man run | grep -q '^\.B ecorisk run \\-\\-feed day.csv.gz' || fail "man run: example"

# completion scripts come from the option tables
"$E" completion bash > "$tmp/comp.bash" || fail "completion bash"
bash -n "$tmp/comp.bash" || fail "completion bash: syntax"
got=$(bash -c '. "$1"; COMP_WORDS=(ecorisk run --max-q); COMP_CWORD=2; _ecorisk; echo "${COMPREPLY[*]}"' _ "$tmp/comp.bash")
[ "$got" = "--max-quarantine-share" ] || fail "completion of 'run --max-q': '$got'"
"$E" completion zsh | head -1 | grep -q '^#compdef ecorisk$' || fail "completion zsh"
expect 64 "ecorisk completion: expected bash or zsh" completion fish

# scripts answer --help with their header, without doing anything
for s in tests/run.sh docker/sample-day.sh docker/install-deps.sh docker/nightly.sh bench/run.sh; do
  out=$(bash "$ECORISK_SRC/$s" --help) || fail "$s --help exited $?"
  [ "$(head -1 <<<"$out" | cut -d' ' -f1)" = "$(basename "$s")" ] || fail "$s --help: $(head -1 <<<"$out")"
done
echo ok
