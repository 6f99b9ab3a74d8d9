#!/usr/bin/env bash
# registries.sh — documents as live ledgers (docs/registries.md): recall of the
# planted document fraud and the cost of the registry pass and the ledger.
# A synthetic day of ROWS declarations (default 1,000,000, gen_declarations),
# registries for it with planted permit reuse, quota overruns and missing
# consents (gen_registries), then `ecorisk run` with the shipped packs and the
# document-check packs of feeds/samples/registries/profiles, 2 threads:
#   - without --registry (the document predicates have no data),
#   - with --registry and --ledger (check pass, ledger load and commit),
# both on the same file in the same invocation, next to `wc -l`. Recall: the
# share of each planted pattern whose declaration alerts with the matching
# indicator; false alarms: document-check alerts on unplanted declarations.
#   bench/registries.sh [ROWS]            (REG_DAY=FILE: use that declarations CSV)
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-1000000}
bench_build
[ -x "$build/gen_registries" ] || cmake --build "$build" -j2 --target gen_registries >/dev/null
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
# REG_DAY=FILE: registries for that day (bench/detect.sh passes its labelled day) instead of a generated one.
src=${REG_DAY:-$out/registries-day-$rows.csv}
reg=$out/registries-$(basename "$src" .csv)
day=$reg/declarations.csv
if [ ! -s "$day" ] || [ "$src" -nt "$day" ] || [ "$build/gen_registries" -nt "$day" ]; then
  mkdir -p "$reg"
  [ -s "$src" ] || "$build/gen_declarations" -n "$rows" --seed 31 --start 2026-11-24 -o "$src"
  "$build/gen_registries" --in "$src" --out "$reg" --seed 31
fi
bytes=$(stat -c %s "$day")
packs=(--profiles profiles --profiles feeds/samples/registries/profiles)
echo "day: $day  rows: $rows  bytes: $bytes"
echo "registries: $(($(wc -l < "$reg/cites-permits.csv") - 2)) permits, $(($(wc -l < "$reg/ods-licences.csv") - 2)) licences, $(($(wc -l < "$reg/basel-consents.csv") - 2)) consents"
echo "cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
bench_header
measure "wc -l"                                 wc -l "$day"
# The two runs interleaved (best of RUNS each, default 5): the machine is shared, and timings drift
# more between consecutive batches of runs than the difference measured.
rm -rf "$out/reg-ledger"
none=("$build/ecorisk" run --feed "$day" "${packs[@]}" --threads 2 --out "$out/reg-out-none" -q)
with=("$build/ecorisk" run --feed "$day" "${packs[@]}" --threads 2 --registry "$reg" --ledger "$out/reg-ledger"
      --as-of 2026-11-24 --out "$out/reg-out-reg" -q)
for _ in $(seq "${RUNS:-5}"); do
  for m in none with; do
    if [ $m = none ]; then cmd=("${none[@]}"); else cmd=("${with[@]}"); fi
    { /usr/bin/time -f "$m %e %U %S %M" "${cmd[@]}"; } 2>&1 | tail -1
  done
done | awk -v r="$rows" -v b="$bytes" '
  { c = $3 + $4; if (!($1 in w) || $2 < w[$1]) w[$1] = $2; if (!($1 in u) || c < u[$1]) u[$1] = c; m[$1] = $5 }
  END {
    n["none"] = "ecorisk run, no registries"; n["with"] = "ecorisk run, registries + ledger"
    for (k in n) printf "%-34s %8.3f %8.3f %12.0f %9.1f %13.0f %7.1f MB\n", n[k], w[k], u[k], r / w[k], b / w[k] / 1e6, r / u[k], m[k] / 1024
    printf "registries + ledger cost: %+.1f%% wall, %+.1f%% cpu (best of each, interleaved)\n",
           (w["with"] / w["none"] - 1) * 100, (u["with"] / u["none"] - 1) * 100 }'
python3 - "$reg/labels.csv" "$out/reg-out-reg/alerts.jsonl" "$out/reg-out-reg/summary.json" <<'PY'
import collections, json, sys
lab = dict(l.strip().split(",") for l in list(open(sys.argv[1]))[1:])
want = {"permit_reuse": ("wildlife-permit-check", {"permit-exhausted", "permit-exceeded"}),
        "quota_overrun": ("ods-licence-check", {"licence-exceeded"}),
        "missing_consent": ("waste-consent-check", {"no-consent"})}
doc_profiles = {p for p, _ in want.values()}
hit, tot, false = collections.Counter(), collections.Counter(lab.values()), 0
for line in open(sys.argv[2]):
    a = json.loads(line)
    did = a["declaration"]["id"]
    fired = {i["id"] for i in a["indicators"]}
    # the best profile carries the alert; the document profile may be among also_fired
    profs = {a["profile"]["id"]} | {o["id"] for o in a["also_fired"]}
    if did in lab:
        p, inds = want[lab[did]]
        if p == a["profile"]["id"] and fired & inds or p != a["profile"]["id"] and p in profs:
            hit[lab[did]] += 1
    elif profs & doc_profiles:
        false += 1
print("%-18s %8s %8s %8s" % ("pattern", "planted", "alerted", "recall"))
for k in sorted(tot):
    print("%-18s %8d %8d %8.3f" % (k, tot[k], hit[k], hit[k] / tot[k]))
print("document-check alerts on unplanted declarations: %d" % false)
h = json.load(open(sys.argv[3]))["registries"]["harm"]
print("tonnes at stake in ODS alerts: %.3f ODP-t, %.0f t CO2e (%d alerts with a substance)"
      % (h["odp_tonnes"], h["co2e_tonnes"], h["ods_alerts_with_substance"]))
PY
