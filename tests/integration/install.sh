#!/usr/bin/env bash
# install.sh — `cmake --install` end to end: installs the build tree into a
# temporary DESTDIR with a prefix other than the configured one, then checks
# the installed binary (version, man pages, the shipped data it defaults to),
# the headers, and that a small C program compiles and links against the
# installed library through pkg-config, both shared and static, and runs.
# Env: ECORISK (built CLI), ECORISK_BUILD, ECORISK_SRC; ECORISK_WRAP optional
# (e.g. valgrind) is put in front of every run of an ecorisk binary.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_BUILD:?}" "${ECORISK_SRC:?}"
WRAP=${ECORISK_WRAP:-}
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

root=$T/root
prefix=/opt/ecorisk-test
DESTDIR=$root cmake --install "$ECORISK_BUILD" --prefix "$prefix" >"$T/install.log"
P=$root$prefix
bin=$P/bin/ecorisk
libdir=$(dirname "$(find "$P" -name 'libecorisk.a' -print -quit)")
[ -x "$bin" ] || fail "no installed binary at $bin"
[ -f "$libdir/libecorisk.a" ] || fail "no static library"
[ -e "$libdir/libecorisk.so" ] && [ -e "$libdir/libecorisk.so.0" ] || fail "no shared library + soname link"
[ -f "$libdir/pkgconfig/ecorisk.pc" ] || fail "no pkg-config file"
for h in "$ECORISK_SRC"/engine/include/ecorisk/*.h; do
    cmp -s "$h" "$P/include/ecorisk/$(basename "$h")" || fail "header $(basename "$h") not installed"
done

# Binary: same version as the build tree.
want=$("$ECORISK" --version)
got=$($WRAP "$bin" --version)
[ "$got" = "$want" ] || fail "installed --version '$got' != '$want'"
[[ "$got" =~ ^ecorisk\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "bad version line '$got'"

# Shell completion: installed where bash-completion and zsh look, and working:
# a group completes to its sub-commands, an option prefix to the command's options.
comp=$P/share/bash-completion/completions/ecorisk
[ -f "$comp" ] || fail "no bash completion at $comp"
[ "$(head -1 "$P/share/zsh/site-functions/_ecorisk")" = "#compdef ecorisk" ] || fail "no zsh completion"
got=$(bash -c '. "$1"; COMP_WORDS=(ecorisk baseline b); COMP_CWORD=2; _ecorisk; echo "${COMPREPLY[*]}"' _ "$comp")
[ "$got" = "build" ] || fail "completion of 'ecorisk baseline b': '$got'"
got=$(bash -c '. "$1"; COMP_WORDS=(ecorisk run --fe); COMP_CWORD=2; _ecorisk; echo "${COMPREPLY[*]}"' _ "$comp")
[ "$got" = "--feed" ] || fail "completion of 'ecorisk run --fe': '$got'"
got=$(bash -c '. "$1"; COMP_WORDS=(ecorisk profile lint --to); COMP_CWORD=3; _ecorisk; echo "${COMPREPLY[*]}"' _ "$comp")
[ "$got" = "--today" ] || fail "completion of 'ecorisk profile lint --to': '$got'"

# Man pages: ecorisk.1 plus one per command, each starting with .TH, and
# (where groff exists) rendering without a single warning.
mandir=$P/share/man/man1
[ -f "$mandir/ecorisk.1" ] || fail "no ecorisk.1"
n_cmds=0
while IFS= read -r name; do
    page=$mandir/ecorisk-${name// /-}.1
    [ -f "$page" ] || fail "no man page for '$name' ($page)"
    n_cmds=$((n_cmds + 1))
done < <($WRAP "$bin" man --list)
[ "$n_cmds" -ge 10 ] || fail "only $n_cmds commands listed"
n_pages=$(find "$mandir" -name 'ecorisk*.1' | wc -l)
[ "$n_pages" -eq $((n_cmds + 1)) ] || fail "$n_pages man pages for $n_cmds commands (+1 expected)"
for page in "$mandir"/ecorisk*.1; do
    [ "$(head -c 4 "$page")" = ".TH " ] || fail "$page does not start with .TH"
    if command -v groff >/dev/null; then
        warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $page"
        [ -z "$warn" ] || fail "groff warnings on $page: $warn"
    fi
done
if command -v groff >/dev/null; then
    groff -man -Tutf8 "$mandir/ecorisk-run.1" >"$T/run.txt" 2>/dev/null
    grep -q '^NAME' <(sed 's/.\x08//g' "$T/run.txt") || fail "ecorisk-run.1 renders without a NAME section"
fi
# The page of a command equals what the installed binary prints for it.
$WRAP "$bin" man baseline build >"$T/bb.1"
cmp -s "$T/bb.1" "$mandir/ecorisk-baseline-build.1" || fail "ecorisk-baseline-build.1 differs from 'ecorisk man baseline build'"

# Shipped data under share/ecorisk, identical to the tree.
share=$P/share/ecorisk
for d in profiles:profiles feeds/mappings:mappings feeds/reference:reference; do
    src=${d%%:*} dst=${d##*:}
    if [ -d "$ECORISK_SRC/$src" ]; then
        diff -r "$ECORISK_SRC/$src" "$share/$dst" >/dev/null || fail "share/ecorisk/$dst differs from $src"
    fi
done
# The installed binary defaults to the installed data, not the source tree it
# was built from: drop TG from the installed country list only, then ingest a
# declaration from TG with both binaries.
if [ -f "$share/reference/countries.csv" ] && ! grep -q 'x-unused' <<<"$("$ECORISK" ingest --help 2>&1)"; then
    sed -i '/^TG,/d' "$share/reference/countries.csv"
    cat >"$T/tg.csv" <<'EOF'
id,date,flow,declarant,importer,exporter,hs,description,origin,export_country,destination,transit,mode,office,net_kg,gross_kg,quantity,unit,value,currency,packages,container
D1,2026-11-20,IM,DC1,IMP1,EXP1,010690,live reptiles,TG,TG,FR,,AIR,FRCDG,12,15,40,NAR,800,EUR,2,
EOF
    q() { grep -o '"bad_country":[0-9]*' | cut -d: -f2; }
    [ "$(env -u ECORISK_HOME -u ECORISK_REFERENCE -u ECORISK_MAPPINGS "$ECORISK" ingest --feed "$T/tg.csv" --json | q)" = 0 ] \
        || fail "build-tree binary rejects TG"
    [ "$(env -u ECORISK_HOME -u ECORISK_REFERENCE -u ECORISK_MAPPINGS $WRAP "$bin" ingest --feed "$T/tg.csv" --json | q)" = 1 ] \
        || fail "installed binary does not use the installed reference data"
    # Built-in mapping names resolve in the installed mappings too.
    mv "$share/mappings/canonical-csv.json" "$share/mappings/installed-only.json"
    env -u ECORISK_HOME -u ECORISK_MAPPINGS $WRAP "$bin" ingest --feed "$T/tg.csv" --mapping installed-only --json >/dev/null \
        || fail "installed binary does not find installed mappings by name"
    mv "$share/mappings/installed-only.json" "$share/mappings/canonical-csv.json"
    # ECORISK_HOME overrides the location (there TG is known again).
    mkdir -p "$T/home"
    cp -r "$ECORISK_SRC/feeds/reference" "$ECORISK_SRC/feeds/mappings" "$T/home/"
    [ "$(env -u ECORISK_REFERENCE ECORISK_HOME="$T/home" $WRAP "$bin" ingest --feed "$T/tg.csv" --json | q)" = 0 ] \
        || fail "ECORISK_HOME ignored"
    # Put the installed country list back: the shipped profiles name Togo.
    cp "$ECORISK_SRC/feeds/reference/countries.csv" "$share/reference/countries.csv"
fi
# The installed binary defaults to the installed profiles (not the source tree):
# lint them with the source tree hidden from it by ECORISK_HOME unset.
if [ -d "$ECORISK_SRC/profiles" ] && ! grep -q 'x-unused' <<<"$("$ECORISK" profile lint --help 2>&1)"; then
    (unset ECORISK_HOME; $WRAP "$bin" profile lint) >"$T/lint.out" 2>&1 \
        || { cat "$T/lint.out" >&2; fail "installed 'profile lint' on the installed profiles failed"; }
fi

# A C program against the installed library, via pkg-config.
cat >"$T/t.c" <<'EOF'
#include <ecorisk/ecorisk.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    int32_t days = 0;
    er_batch *b = NULL;
    if (er_date_parse("2024-02-29", 10, &days) != ER_OK || days != 19782) return 2;
    if (er_date_parse("2023-02-29", 10, &days) == ER_OK) return 3;
    if (strcmp(er_status_str(ER_ENOMEM), "out of memory") != 0) return 4;
    if (er_batch_new(&b, 16, NULL) != ER_OK) return 5;
    er_batch_free(b);
    puts("linked ok");
    return 0;
}
EOF
export PKG_CONFIG_PATH=$libdir/pkgconfig
# A sanitizer build's library needs the same runtime in the program that links it.
cc=cc san=()
if grep -q '^ECORISK_SANITIZE:BOOL=ON' "$ECORISK_BUILD/CMakeCache.txt" 2>/dev/null; then
    cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$ECORISK_BUILD/CMakeCache.txt")
    san=(-fsanitize=address,undefined)
fi
cflags=$(pkg-config --cflags ecorisk)
[ "$(pkg-config --modversion ecorisk)" = "${want#ecorisk }" ] || fail "pkg-config version mismatch"
"$cc" "${san[@]}" -std=c17 -Wall -Werror $cflags -o "$T/t_shared" "$T/t.c" $(pkg-config --libs ecorisk)
out=$(LD_LIBRARY_PATH=$libdir $WRAP "$T/t_shared") || fail "shared-linked program failed ($?)"
[ "$out" = "linked ok" ] || fail "shared-linked program printed '$out'"
deps_out=$(LD_LIBRARY_PATH=$libdir ldd "$T/t_shared")
grep -q "$libdir/libecorisk.so.0" <<<"$deps_out" || fail "program not linked against the installed shared library"
# Static libecorisk, its dependencies (Requires.private + Libs.private) shared.
deps=$(pkg-config --print-requires-private ecorisk | awk '{print $1}' | tr '\n' ' ')
[ "$deps" = "json-c gsl libisal libcrypto libutf8proc " ] || fail "Requires.private is '$deps'"
"$cc" "${san[@]}" -std=c17 -Wall -Werror $cflags -o "$T/t_static" "$T/t.c" \
    $(pkg-config --libs-only-L ecorisk) -Wl,-Bstatic -lecorisk -Wl,-Bdynamic \
    $(pkg-config --libs $deps) -lm -pthread
out=$($WRAP "$T/t_static") || fail "static-linked program failed"
[ "$out" = "linked ok" ] || fail "static-linked program printed '$out'"
deps_out=$(ldd "$T/t_static")
if grep -q libecorisk <<<"$deps_out"; then fail "static program still needs libecorisk.so"; fi

# The public surface: the shared library exports only er_ names, each declared
# in an installed header (everything else is hidden, see ecorisk/api.h).
nm -D --defined-only "$libdir/libecorisk.so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort >"$T/exports"
[ -s "$T/exports" ] || fail "libecorisk.so exports nothing"
if grep -v '^er_' "$T/exports" >"$T/bad"; then fail "exported names without er_: $(tr '\n' ' ' <"$T/bad")"; fi
cat "$P"/include/ecorisk/*.h >"$T/headers"
while IFS= read -r sym; do
    grep -Eq "\b$sym\b" "$T/headers" || fail "$sym is exported but declared in no installed header"
done <"$T/exports"

# The example programs (engine/examples) against the installed library: C and C++.
cxx=c++
[ "$cc" = cc ] || cxx=${cc/clang/clang++}
"$cc" "${san[@]}" -std=c17 -Wall -Wextra -Werror $cflags -o "$T/screen_feed" \
    "$ECORISK_SRC/engine/examples/screen_feed.c" $(pkg-config --libs ecorisk)
"$cxx" "${san[@]}" -std=c++17 -Wall -Wextra -Werror $cflags -o "$T/version_check" \
    "$ECORISK_SRC/engine/examples/version_check.cpp" $(pkg-config --libs ecorisk)
sample=$ECORISK_SRC/feeds/samples/declarations-2026-01-05.csv
LD_LIBRARY_PATH=$libdir $WRAP "$T/screen_feed" "$sample" "$share/profiles" "$share/reference" \
    >"$T/screen.out" 2>"$T/screen.err" || fail "screen_feed failed: $(cat "$T/screen.err")"
"$ECORISK" run --feed "$sample" --out "$T/run" -q --max-quarantine-share 1
want_alerts=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if not json.loads(l).get("random")))' "$T/run/alerts.jsonl")
[ "$(wc -l <"$T/screen.out")" -eq "$want_alerts" ] \
    || fail "screen_feed printed $(wc -l <"$T/screen.out") alerts, ecorisk run (no baseline) $want_alerts"
grep -q "screen_feed: libecorisk ${want#ecorisk }, 191 declarations" "$T/screen.err" \
    || fail "screen_feed summary: $(cat "$T/screen.err")"
out=$(LD_LIBRARY_PATH=$libdir $WRAP "$T/version_check" "$sample" "$share/reference") || fail "version_check (C++) failed"
[ "$out" = "${want}: 207 read, 191 accepted, 16 quarantined" ] || fail "version_check printed '$out'"
echo "install: ok ($n_pages man pages, prefix $prefix, $(wc -l <"$T/exports") exported er_ symbols, C and C++ examples)"
