#!/usr/bin/env bash
# pgo_train.sh — the training run of a profile-guided build (docs/operations.md,
# "Building for throughput"): with the binaries of an ECORISK_PGO=generate tree,
# what a nightly job does, on generated data: a baseline built from history
# (CSV) and converted to its binary form, the day's run at 2 threads on the CSV,
# its gzip and its JSON Lines forms (a run config keeping capacity, random
# controls and exploration), a model learned on a labelled day and the run
# with it, ingest and explain. Every step must succeed. The profiles go where
# the tree's ECORISK_PGO_DIR says; docker/build.sh then rebuilds the same tree
# with ECORISK_PGO=use.
#   bench/pgo_train.sh BUILD_DIR [WORK_DIR]      (WORK_DIR default BUILD_DIR/pgo-train)
#   ROWS=200000 (the day), HISTORY=200000, TRAIN=20000 (the labelled day)
case "${1:-}" in -h|--help|"") sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; [ -n "${1:-}" ]; exit $? ;; esac
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=${2:-$build/pgo-train}
E=$build/ecorisk
gen=$build/gen_declarations
rows=${ROWS:-200000} hist_rows=${HISTORY:-200000} train_rows=${TRAIN:-20000}
grep -q '^ECORISK_PGO:STRING=generate$' "$build/CMakeCache.txt" ||
  { echo "pgo_train.sh: $build is not an ECORISK_PGO=generate build tree" >&2; exit 64; }
rm -rf "$work"
mkdir -p "$work"
cd "$work"
common=(--profiles "$src/profiles" --reference "$src/feeds/reference")
"$gen" -n "$hist_rows" --seed 20 --start 2025-11-24 --days 365 -o hist.csv
"$E" baseline build -q --feed hist.csv --out base.json
"$E" baseline convert -q base.json --out base.bin
"$gen" -n "$rows" --seed 21 --start 2026-11-24 --anomaly-rate 0.002 --invalid-rate 0.001 -o day.csv
gzip -1 -c day.csv > day.csv.gz
"$gen" -n "$rows" --seed 22 --start 2026-11-24 --anomaly-rate 0.002 --format jsonl -o day.jsonl
echo '{"rules": [{"office": "*", "flow": "*", "red": 0.02, "yellow": 0.05, "min_random_rate": 0.01, "explore_rate": 0.005}]}' > config.json
"$E" run "${common[@]}" --feed day.csv --baseline base.bin --threads 2 --out out-csv -q
"$E" run "${common[@]}" --feed day.csv.gz --baseline base.bin --threads 2 --out out-gz -q
"$E" run "${common[@]}" --feed day.jsonl --baseline base.bin --threads 2 --config config.json --out out-jsonl -q
"$gen" -n "$train_rows" --anomaly-rate 0 --illicit-rate 0.0051 --seed 29 --start 2026-11-20 -o train.csv
"$E" learn "${common[@]}" --feed train.csv --label-field illicit --baseline base.bin --out model.json > /dev/null
"$E" run "${common[@]}" --feed day.csv --baseline base.bin --threads 2 --model model.json --out out-model -q
"$E" ingest --reference "$src/feeds/reference" --feed day.csv > /dev/null
id=$(sed -n '2s/,.*//p' day.csv)
"$E" explain "${common[@]}" --feed day.csv --baseline base.bin --id "$id" > /dev/null
echo "pgo_train.sh: trained on $rows declarations ($work)"
