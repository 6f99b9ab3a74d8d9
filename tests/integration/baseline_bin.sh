#!/usr/bin/env bash
# baseline_bin.sh — the binary baseline file (docs/scoring.md) end to end:
# built directly or converted from JSON gives the same bytes, converting back
# gives the JSON file byte for byte, merge and show read either form (also
# from stdin), a run scores byte-identically with either form at 1 and 2
# threads, and corrupt, truncated or foreign-version files fail with exit 65
# and a message naming the file.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
E="${ECORISK_WRAP:-} $ECORISK"
F="$ECORISK_SRC/tests/fixtures/run"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

"$ECORISK_BUILD/gen_declarations" -n 40000 --seed 11 --start 2026-05-01 --days 200 -o "$T/hist.csv"
head -20001 "$T/hist.csv" > "$T/a.csv"
{ head -1 "$T/hist.csv"; tail -n +20002 "$T/hist.csv"; } > "$T/b.csv"
$E baseline build -q --feed "$T/hist.csv" --out "$T/b.json"
$E baseline build -q --feed "$T/hist.csv" --out "$T/b.bin"
$E baseline build -q --feed "$T/hist.csv" --out-format bin --out "$T/b-explicit"
cmp -s "$T/b.bin" "$T/b-explicit" || fail "--out-format bin differs from .bin"
head -c 8 "$T/b.bin" | grep -q '^ERBLBIN$' || fail "binary magic"

# 1. conversions are exact both ways
$E baseline convert -q "$T/b.json" --out "$T/c.bin"
cmp -s "$T/b.bin" "$T/c.bin" || fail "converted binary differs from the binary build"
$E baseline convert -q "$T/b.bin" --out "$T/c.json"
cmp -s "$T/b.json" "$T/c.json" || fail "binary -> JSON differs from the JSON build"
$E baseline convert -q "$T/b.bin" --out-format json --out - > "$T/stdout.json"
cmp -s "$T/b.json" "$T/stdout.json" || fail "binary -> JSON on stdout"

# 2. merge: shards in either form give the whole build
$E baseline build -q --feed "$T/a.csv" --out "$T/a.bin"
$E baseline build -q --feed "$T/b.csv" --out "$T/bb.json"
$E baseline merge -q "$T/a.bin" "$T/bb.json" --out "$T/m.json"
cmp -s "$T/b.json" "$T/m.json" || fail "merge of binary and JSON shards differs from the whole build"
$E baseline merge -q "$T/bb.json" "$T/a.bin" --out "$T/m.bin"
cmp -s "$T/b.bin" "$T/m.bin" || fail "binary merge output differs from the binary build"

# 3. show reads either form, also from stdin
$E baseline show --baseline "$T/b.json" --hs 0106 > "$T/s1.txt"
$E baseline show --baseline "$T/b.bin" --hs 0106 > "$T/s2.txt"
$E baseline show --baseline - --hs 0106 < "$T/b.bin" > "$T/s3.txt"
cmp -s "$T/s1.txt" "$T/s2.txt" && cmp -s "$T/s1.txt" "$T/s3.txt" || fail "show differs between forms"
grep -q "declarations" "$T/s1.txt" || fail "show printed no groups"

# 4. runs score identically with either form
for f in json bin; do
  for th in 1 2; do
    $E run -q --feed "$F/day.csv" --baseline "$T/b.$f" --as-of 2026-11-24 --threads $th --all-scores --max-quarantine-share 0.5 \
        --out "$T/o-$f-$th" || fail "run with the $f baseline, $th threads"
  done
done
for x in alerts.jsonl scores.csv quarantine.jsonl; do
  [ -f "$T/o-json-1/$x" ] || continue
  for o in o-json-2 o-bin-1 o-bin-2; do cmp -s "$T/o-json-1/$x" "$T/$o/$x" || fail "$x differs in $o"; done
done
[ -s "$T/o-bin-2/alerts.jsonl" ] || fail "no alerts"
# timings differ, and so does metrics.prom's manifest line (it holds the duration)
strip() { sed -e 's/"timings": *{[^}]*}//' -e '/"metrics.prom"/d' "$1"; }
[ "$(strip "$T/o-json-1/summary.json")" = "$(strip "$T/o-bin-2/summary.json")" ] || fail "summary differs"

# 5. damaged files are rejected, never used. b.bin is over 4 MiB, so its
# checksum runs on a thread beside the section checks (baseline_bin.c), and a
# mismatch is still what is reported.
[ "$(stat -c %s "$T/b.bin")" -ge 4194304 ] || fail "b.bin under 4 MiB: the threaded checksum is not exercised"
set +e
python3 - "$T" <<'EOF'
import sys, struct
t = sys.argv[1]
b = bytearray(open(f"{t}/b.bin", "rb").read())
x = bytearray(b); x[len(x) // 2] ^= 0x40; open(f"{t}/flip.bin", "wb").write(x)
open(f"{t}/trunc.bin", "wb").write(b[: len(b) - 8])
v = bytearray(b); v[8:12] = struct.pack("<I", 99); open(f"{t}/v99.bin", "wb").write(v)
EOF
$E baseline show --baseline "$T/flip.bin" --hs 0106 2> "$T/err"; rc=$?
[ $rc -eq 65 ] && grep -q 'flip.bin: binary baseline: checksum mismatch' "$T/err" || fail "flipped byte: exit $rc, $(cat "$T/err")"
$E run --feed "$F/day.csv" --baseline "$T/trunc.bin" --out "$T/ot" 2> "$T/err"; rc=$?
[ $rc -eq 65 ] && grep -q 'trunc.bin: binary baseline: file size' "$T/err" || fail "truncated: exit $rc, $(cat "$T/err")"
$E baseline merge "$T/b.bin" "$T/v99.bin" --out "$T/x.json" 2> "$T/err"; rc=$?
[ $rc -eq 65 ] && grep -q 'v99.bin: binary baseline layout 99' "$T/err" || fail "version: exit $rc, $(cat "$T/err")"
[ ! -e "$T/x.json" ] || fail "failed merge left an output file"
$E baseline convert "$T/b.bin" --out-format xml --out "$T/x" 2> /dev/null; rc=$?
[ $rc -eq 64 ] || fail "bad --out-format: exit $rc"
set -e
echo "ok"
