#!/usr/bin/env bash
# missing_library.sh — libcurl and XGBoost are opened on first use
# (docs/architecture.md, "Libraries opened on first use"). With both sonames
# shadowed by unloadable files (LD_LIBRARY_PATH): a run over a file, with a
# learned model, needs neither and gives the same bytes; a feed URL, a push
# and `learn` each stop with exit 69 and a message naming the library, its
# soname and the loader's reason, and a push leaves its alerts pending.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}" "${ECORISK_BUILD:?}"
. "${ECORISK_SRC:?}/tests/lib.sh"
cd "$T"
bin=$ECORISK_BUILD/ecorisk
curl_so=$(grep -ao 'libcurl\.so\.[0-9][0-9]*' "$bin" | head -1)
xgb_so=$(grep -ao 'libxgboost\.so\.[0-9][0-9]*' "$bin" | head -1)
[ -n "$curl_so" ] && [ -n "$xgb_so" ] || fail "the binary names no libcurl / XGBoost soname"
# linked, they would be loaded by every process
if ldd "$bin" | grep -E 'libcurl|libxgboost'; then fail "ecorisk is linked against libcurl or XGBoost"; fi
mkdir bad
echo "not a library" > "bad/$curl_so"
echo "not a library" > "bad/$xgb_so"

G=("$ECORISK_BUILD/gen_declarations" --anomaly-rate 0 --illicit-rate 0.02)
"${G[@]}" -n 20000 --seed 50 --start 2026-09-01 --days 20 -o hist.csv
"${G[@]}" -n 6000 --seed 51 --start 2026-09-25 -o train.csv
"${G[@]}" -n 4000 --seed 52 --start 2026-09-28 -o day.csv
"$ECORISK" baseline build --feed hist.csv --out bl.json -q
"$ECORISK" learn --feed train.csv --label-field illicit --baseline bl.json --out model.json > /dev/null
"$ECORISK" run --feed day.csv --baseline bl.json --model model.json --out ok -q

# 1. A run over a file with a model: neither library is opened.
LD_LIBRARY_PATH=$T/bad "$ECORISK" run --feed day.csv --baseline bl.json --model model.json --out shadowed -q ||
    fail "a file run needed a library it should not open"
cmp ok/alerts.jsonl shadowed/alerts.jsonl || fail "alerts differ when the libraries cannot be opened"
[ -s ok/alerts.jsonl ] || fail "the run emitted no alert"

expect_69() { # what log library soname: exit 69, the library, soname and reason named
    local what=$1 log=$2 lib=$3 so=$4 rc=$5
    [ "$rc" -eq 69 ] || fail "$what: exit $rc, expected 69 ($(cat "$log"))"
    grep -qF "$lib is needed for this but cannot be loaded ($so): $T/bad/$so:" "$log" ||
        fail "$what: message does not name $lib: $(cat "$log")"
}

# 2. A feed URL needs libcurl.
rc=0
LD_LIBRARY_PATH=$T/bad "$ECORISK" run --feed "http://127.0.0.1:$(free_port)/day.csv" --baseline bl.json \
    --out url -q 2> url.err || rc=$?
expect_69 "feed URL" url.err libcurl "$curl_so" "$rc"
grep -qF "http://127.0.0.1:" url.err || fail "feed URL: the URL is not named: $(cat url.err)"
[ ! -e url ] || fail "feed URL: an output set was published"

# 3. A push needs libcurl; what it could not send stays pending.
"$ECORISK" push --outbox ob --enqueue ok/alerts.jsonl --batch 50 --no-send 2> /dev/null
pending=$(cat ob/pending/*.json | grep -o '"alert_id"' | wc -l)
[ "$pending" -eq "$(wc -l < ok/alerts.jsonl)" ] || fail "enqueued $pending of $(wc -l < ok/alerts.jsonl) alerts"
rc=0
LD_LIBRARY_PATH=$T/bad "$ECORISK" push --outbox ob --endpoint "http://127.0.0.1:$(free_port)/alerts" \
    --insecure-http > push.out 2> push.err || rc=$?
expect_69 "push" push.err libcurl "$curl_so" "$rc"
after=$(cat ob/pending/*.json | grep -o '"alert_id"' | wc -l)
[ "$after" -eq "$pending" ] || fail "push without libcurl: $after alerts pending, was $pending"

# 4. Training needs XGBoost.
rc=0
LD_LIBRARY_PATH=$T/bad "$ECORISK" learn --feed train.csv --label-field illicit --baseline bl.json \
    --out m2.json > /dev/null 2> learn.err || rc=$?
expect_69 "learn" learn.err XGBoost "$xgb_so" "$rc"
[ ! -e m2.json ] || fail "learn wrote a model without XGBoost"
echo "missing libraries: file run unaffected, URL / push / learn exit 69 naming the library"
