#!/usr/bin/env bash
# docker_scripts.sh — keeps docker/Dockerfile and docker-compose.yml honest
# without Docker: every RUN step must be a call to a script in docker/ that
# exists and is executable, every COPY source must exist; then the scripts
# run here for real: build.sh builds and installs into a temp DESTDIR, the
# installed binary runs, its shared libraries must all come from the
# packages `install-deps.sh --runtime` installs (the final image's only
# libraries), create-user.sh creates the account in a scratch root,
# gen-certs.sh makes a CA that verifies the server certificate, and — once the
# receiver, push and profiles exist — nightly.sh runs the installed binary
# against the CEN-style receiver over verified TLS, as the compose file does.
# Env: ECORISK, ECORISK_SRC; ECORISK_WRAP optional (e.g. valgrind).
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}"
S=$ECORISK_SRC
WRAP=${ECORISK_WRAP:-}
. "$S/tests/lib.sh"   # fail, scratch directory $T; the receiver is stopped at exit
df=$S/docker/Dockerfile
[ -f "$df" ] || fail "no docker/Dockerfile"

# 1. The Dockerfile: RUN = one docker/ script call; COPY sources exist.
n_run=0 scripts=()
while IFS= read -r line; do
    case "$line" in
    RUN\ *)
        [[ "$line" != *'\' ]] || fail "RUN continued over lines: $line"
        [[ "$line" != *'&&'* && "$line" != *';'* && "$line" != *'|'* ]] || fail "RUN is not a single script call: $line"
        cmd=$(awk '{print $2}' <<<"$line")
        name=$(basename "$cmd")
        [[ "$cmd" == docker/*.sh || "$cmd" == /opt/ecorisk-docker/*.sh ]] || fail "RUN calls '$cmd', not a docker/ script"
        [ -f "$S/docker/$name" ] || fail "RUN calls $cmd: docker/$name does not exist"
        [ -x "$S/docker/$name" ] || fail "docker/$name is not executable"
        scripts+=("$name")
        n_run=$((n_run + 1)) ;;
    COPY\ --from=*) ;;
    COPY\ *)
        read -r -a words <<<"${line#COPY }"
        for src in "${words[@]:0:${#words[@]}-1}"; do
            [ -e "$S/$src" ] || fail "COPY source '$src' does not exist"
        done ;;
    esac
done <"$df"
[ "$n_run" -ge 4 ] || fail "only $n_run RUN steps found"
grep -q '^USER ecorisk$' "$df" || fail "final stage does not run as the ecorisk user"
[ "$(grep -c '^FROM debian:bookworm-slim' "$df")" -eq "$(grep -c '^FROM ' "$df")" ] || fail "a stage is not debian:bookworm-slim"
# Scripts the compose file and the image call by their installed names.
compose=$S/docker/docker-compose.yml
grep -q 'COPY docker/nightly.sh /usr/local/bin/ecorisk-nightly' "$df" || fail "image lacks ecorisk-nightly"
for s in $(grep -o '/opt/ecorisk-docker/[a-z-]*\.sh' "$compose" | sort -u); do
    grep -q "COPY .*docker/$(basename "$s").* /opt/ecorisk-docker/" "$df" || fail "compose calls $s, which the image does not have"
done
for s in "$S"/docker/*.sh; do bash -n "$s" || fail "syntax error in $s"; done

# 2. install-deps.sh: modes list packages; the build and runtime lists are consistent.
for m in all build runtime receiver; do
    "$S/docker/install-deps.sh" --list "$m" >"$T/pk.$m" || fail "install-deps.sh --list $m"
    [ -s "$T/pk.$m" ] || fail "install-deps.sh --list $m is empty"
done
while read -r p; do grep -qx "$p" "$T/pk.all" || fail "build package $p missing from the full list"; done <"$T/pk.build"
"$S/docker/install-deps.sh" --build    # installs nothing on a prepared machine

# 3. build.sh for real: Release build, install into a DESTDIR. (A sanitizer
# build's suite skips steps 3, 4 and 7: they build and test their own gcc
# Release tree, exactly as the plain suite already does.)
if grep -q '^ECORISK_SANITIZE:BOOL=ON' "${ECORISK_BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
    echo "docker_scripts: sanitizer build: static checks only (the gcc suite runs the scripts)"
    exit 0
fi
root=$T/root
JOBS=2 "$S/docker/build.sh" "$S" "$T/build" "$root" /usr/local >"$T/build.log" 2>&1 \
    || { tail -30 "$T/build.log" >&2; fail "docker/build.sh failed"; }
bin=$root/usr/local/bin/ecorisk
[ -x "$bin" ] || fail "build.sh did not install bin/ecorisk"
[ "$($WRAP "$bin" --version)" = "$("$ECORISK" --version)" ] || fail "installed version differs"
[ -f "$root/usr/local/share/man/man1/ecorisk-run.1" ] || fail "build.sh did not install the man pages"
if grep -q 'not stripped' <<<"$(file "$bin" 2>/dev/null)"; then fail "installed binary is not stripped"; fi
# 3b. with gcc the build is profile-guided (bench/pgo_train.sh ran every step of
# a nightly job on the instrumented build), and what it installs scores the
# sample day byte for byte as the tested build does.
if [ "${CC:-gcc}" = gcc ]; then
    grep -q '^pgo_train.sh: trained on' "$T/build.log" || fail "no training run: $(tail -5 "$T/build.log")"
    n=$(sed -n 's/^profile-guided: \([0-9]*\) profiles$/\1/p' "$T/build.log")
    [ "${n:-0}" -ge 50 ] || fail "profile-guided build with ${n:-no} profiles"
    day=(--profiles "$S/profiles" --reference "$S/feeds/reference" --feed "$S/feeds/samples/sample-day.csv"
         --baseline "$S/feeds/samples/baseline.json" --as-of 2026-01-05 -q)
    $WRAP "$bin" run "${day[@]}" --out "$T/day-installed" || fail "the installed binary's run on the sample day"
    $WRAP "$ECORISK" run "${day[@]}" --out "$T/day-tested" || fail "the tested binary's run on the sample day"
    cmp "$T/day-installed/alerts.jsonl" "$T/day-tested/alerts.jsonl" \
        || fail "the profile-guided build's alerts differ from the tested build's"
    [ "$(wc -l <"$T/day-installed/alerts.jsonl")" -ge 10 ] || fail "too few alerts on the sample day to compare"
fi

# 4. The final image has only the --runtime packages (and their dependencies):
# every shared library the installed binary loads must come from them.
mapfile -t runtime <"$T/pk.runtime"
apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${runtime[@]}" 2>/dev/null | grep -v '^ ' | sort -u >"$T/closure"
[ -s "$T/closure" ] || fail "apt-cache gave no dependency closure"
n_libs=0
while read -r lib; do
    pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
    if [ -z "$pkg" ]; then
        case "$lib" in /usr/lib/*) alt=${lib#/usr} ;; /lib*) alt=/usr$lib ;; *) alt=$lib ;; esac
        pkg=$(dpkg -S "$alt" 2>/dev/null | head -1 | cut -d: -f1) || true
    fi
    [ -n "$pkg" ] || fail "no package owns $lib (needed by the installed binary)"
    grep -qx "$pkg" "$T/closure" || fail "$lib comes from $pkg, which install-deps.sh --runtime does not bring"
    n_libs=$((n_libs + 1))
done < <(ldd "$bin" | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}')
[ "$n_libs" -ge 1 ] || fail "ldd listed no library"
# the libraries opened on first use (libcurl, XGBoost), by the sonames the binary names
n_dl=0
for so in $(grep -aoE 'lib(curl|xgboost)\.so\.[0-9]+' "$bin" | sort -u); do
    lib=$(ldconfig -p | awk -v so="$so" '$1 == so {print $NF; exit}')
    [ -n "$lib" ] || fail "$so (opened on first use) is not installed"
    pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || fail "no package owns $lib (opened on first use)"
    grep -qx "$pkg" "$T/closure" || fail "$so comes from $pkg, which install-deps.sh --runtime does not bring"
    n_dl=$((n_dl + 1))
done
[ "$n_dl" -eq 2 ] || fail "the binary names $n_dl of the 2 libraries it opens on first use"

# 5. create-user.sh against a scratch root.
ur=$T/userroot
mkdir -p "$ur/etc"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$ur/etc/passwd"
printf 'root:x:0:\n' >"$ur/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$ur/etc/shadow"
printf 'root:*::\n' >"$ur/etc/gshadow"
ROOT=$ur "$S/docker/create-user.sh" ecorisk 10001 2>"$T/useradd.err" || { cat "$T/useradd.err" >&2; fail "create-user.sh failed"; }
grep -qx 'ecorisk:x:10001:10001::/var/lib/ecorisk:/usr/sbin/nologin' "$ur/etc/passwd" || fail "passwd entry: $(tail -1 "$ur/etc/passwd")"
grep -qx 'ecorisk:x:10001:' "$ur/etc/group" || fail "group entry: $(tail -1 "$ur/etc/group")"
for d in "" /in /runs /outbox; do
    [ "$(stat -c '%u:%g %a' "$ur/var/lib/ecorisk$d")" = "10001:10001 750" ] || fail "/var/lib/ecorisk$d: $(stat -c '%u:%g %a' "$ur/var/lib/ecorisk$d")"
done

# 6. gen-certs.sh: a CA that verifies the receiver's certificate for its names.
"$S/docker/gen-certs.sh" "$T/certs" receiver localhost 127.0.0.1
openssl verify -CAfile "$T/certs/ca.pem" "$T/certs/server.pem" >/dev/null || fail "server certificate does not verify"
grep -q 'does match' <<<"$(openssl x509 -in "$T/certs/server.pem" -noout -checkhost localhost)" || fail "certificate not valid for localhost"

# 7. The nightly job, as the compose file runs it, against the CEN-style receiver.
receiver=$S/tests/receiver/cen_receiver.py
feed=$S/tests/fixtures/run/day.csv
if [ -f "$receiver" ] && [ -d "$S/profiles" ] && [ -f "$feed" ] \
   && ! grep -q x-unused <<<"$("$ECORISK" push --help 2>&1)" && ! grep -q x-unused <<<"$("$ECORISK" run --help 2>&1)"; then
    head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$T/token"
    # The receiver runs with the compose file's own command line, container paths
    # mapped onto this test's (and 0.0.0.0 onto loopback), so the two cannot drift.
    mapfile -t rx_args < <(python3 - "$compose" "$T" "$S" <<'EOF'
import json, re, sys
text, tmp, src = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
svc = text[text.index("\n  receiver:"):]
m = re.search(r"command:\s*(\[.*?\])", svc, re.S)
args = json.loads(m.group(1))
mapping = {"/received": tmp + "/received", "8443": "0", "0.0.0.0": "127.0.0.1",
           "/opt/docs/alert.schema.json": src + "/docs/alert.schema.json",
           "/run/secrets/cen_token": tmp + "/token"}
for a in args:
    a = mapping.get(a, a)
    print(tmp + a if a.startswith("/certs/") else a)
EOF
)
    [ "${#rx_args[@]}" -ge 8 ] || fail "cannot read the receiver command from $compose"
    python3 "$receiver" "${rx_args[@]}" --port-file "$T/port" --non-nominal >"$T/receiver.log" 2>&1 &
    bg_track $!
    wait_port "$T/port" $! "$T/receiver.log"
    mkdir -p "$T/state"
    ECORISK_BIN=$bin ECORISK_WRAP=$WRAP ECORISK_FEED=$feed ECORISK_DATE=2026-11-24 \
    ECORISK_RUNS=$T/state/runs ECORISK_OUTBOX=$T/state/outbox \
    ECORISK_ENDPOINT="https://localhost:$(cat "$T/port")/alerts" ECORISK_CACERT=$T/certs/ca.pem \
    ECORISK_TOKEN_FILE=$T/token ECORISK_NON_NOMINAL=1 ECORISK_THREADS=2 \
    ECORISK_METRICS=$T/state/ecorisk.prom \
        "$S/docker/nightly.sh" >"$T/nightly.log" 2>&1 && nrc=0 || nrc=$?
    # the test day quarantines 7 of 31 rows, above the default 5%: exit 3, alerts pushed anyway
    [ "$nrc" -eq 3 ] || { cat "$T/nightly.log" >&2; fail "nightly.sh exited $nrc, expected 3"; }
    grep -q 'above the maximum 5.0%' "$T/nightly.log" || fail "nightly.sh: no quarantine warning"
    grep -q '^ecorisk_quarantine_share_exceeded 1$' "$T/state/ecorisk.prom" || fail "nightly.sh: metrics file"
    alerts=$T/state/runs/2026-11-24/alerts.jsonl
    [ -s "$alerts" ] || fail "the nightly run wrote no alerts"
    python3 - "$alerts" "$T/received/alerts.jsonl" <<'EOF' || fail "received alerts differ from the run's"
import json, sys
run = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert [a["alert_id"] for a in run] == [a["alert_id"] for a in got], "alert ids differ"
for a in got:
    for k in ("importer", "exporter", "declarant"):
        assert k not in a["declaration"], "nominal field %s pushed" % k
print("nightly: %d alerts delivered" % len(got))
EOF
    [ -z "$(ls -A "$T/state/outbox/pending" 2>/dev/null)" ] || fail "alerts left pending"
else
    echo "docker_scripts: nightly job not exercised yet (receiver, push, run or profiles missing)"
fi
echo "docker_scripts: ok ($n_run RUN steps, ${#scripts[@]} script calls, $n_libs shared libraries checked)"
