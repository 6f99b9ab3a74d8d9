#!/usr/bin/env bash
# ingest_kcs.sh — the labelled Korea Customs synthetic datasets
# (shared/data/customs-declarations) read without preprocessing through the
# kcs-customs mapping: exact row counts per file (the only rejects are the
# 'ZZ' country codes, counted independently with awk), a --since/--until
# window checked against awk, and the same file gzipped through stdin.
set -euo pipefail
E=${ECORISK:?} DATA=${ECORISK_SHARED_DATA:?}
dir=$DATA/customs-declarations
if [ ! -d "$dir" ]; then echo "customs-declarations not present: skipped"; exit 77; fi
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit

expect() {   # file rows accepted quarantined
  local s
  s=$("$E" ingest --feed "$dir/$1" --mapping kcs-customs --quarantine "$T/q.jsonl" --json)
  echo "$s" | grep -q "\"rows_read\":$2,\"accepted\":$3,\"quarantined\":$4" || fail "$1: $s"
  echo "$s" | grep -q "\"bad_country\":$4" || fail "$1 reasons: $s"
  local zz
  zz=$(awk -F, 'NR > 1 && ($14 == "ZZ" || $15 == "ZZ")' "$dir/$1" | wc -l)
  [ "$zz" -eq "$4" ] || fail "$1: awk counts $zz ZZ rows"
  [ "$(wc -l < "$T/q.jsonl")" -eq "$4" ] || fail "$1: quarantine lines"
}
expect df_syn_train_eng.csv 37385 37358 27
expect df_syn_valid_eng.csv 8134 8122 12
expect df_syn_test_eng.csv 8481 8476 5

# date window: June 2020 of the training year
s=$("$E" ingest --feed "$dir/df_syn_train_eng.csv" --mapping kcs-customs --since 2020-06-01 --until 2020-06-30 --json)
in=$(awk -F, 'NR > 1 && $14 != "ZZ" && $15 != "ZZ" && $2 >= "2020-06-01" && $2 <= "2020-06-30"' "$dir/df_syn_train_eng.csv" | wc -l)
out=$(awk -F, 'NR > 1 && $14 != "ZZ" && $15 != "ZZ" && ($2 < "2020-06-01" || $2 > "2020-06-30")' "$dir/df_syn_train_eng.csv" | wc -l)
echo "$s" | grep -q "\"accepted\":$in," || fail "window accepted (awk: $in): $s"
echo "$s" | grep -q "\"out_of_range\":$out" || fail "window out_of_range (awk: $out): $s"
echo "$s" | grep -q '"min_date":"2020-06-01","max_date":"2020-06-30"' || fail "window dates: $s"

# gzipped, through stdin
gzip -c "$dir/df_syn_valid_eng.csv" | "$E" ingest --feed - --mapping kcs-customs --json > "$T/s.json"
grep -q '"rows_read":8134,"accepted":8122,"quarantined":12' "$T/s.json" || fail "gzip stdin: $(cat "$T/s.json")"
echo "ok"
