#!/usr/bin/env bash
# make_samples.sh — regenerates the bundled sample day (deterministic):
# 200 synthetic declarations from bench/gen_declarations (seed 42, 4% invalid
# rows of random kinds, 2% planted risk patterns) followed by 7 hand-written
# bad rows, in canonical CSV and the same records in canonical JSON Lines
# (gzip). Usage: feeds/samples/make_samples.sh [path/to/gen_declarations]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gen=${1:-$here/../../build/gen_declarations}
opts=(-n 200 --seed 42 --start 2026-01-05 --invalid-rate 0.04 --anomaly-rate 0.02)

csv=$here/declarations-2026-01-05.csv
"$gen" "${opts[@]}" -o "$csv"
# hand-written bad rows: each fails exactly one rule (see README.md)
printf '%s\n' \
  '26NLSMPL0000000901,2026-01-05,IM,DCL0001,IMP000001,EXP000001,0106.9X,Live reptiles,TG,TG,NL,,AIR,NLSPL,12.5,14.0,40,NAR,5200.00,EUR,2,' \
  '26NLSMPL0000000902,2026-01-05,IM,DCL0001,IMP000002,EXP000002,290371,Refrigerant gas,CN,CN,NL,,SEA,NLRTM,4000,4300,,KGM,9000.00,ZZZ,160,MSCU1234565' \
  '26NLSMPL0000000903,2026-01-05,IM,DCL0002,IMP000003,EXP000003,391510,Plastic scrap in bales,GB,GB,NL,,SEA,NLRTM,22000,21000,,KGM,4400.00,EUR,20,MAEU7654324' \
  ',2026-01-05,IM,DCL0002,IMP000004,EXP000004,440729,Sawn tropical wood,CM,CM,NL,,SEA,NLRTM,18000,18500,,KGM,30000.00,USD,12,' \
  '26NLSMPL0000000905,2026-01-05,EX,DCL0003,IMP000005,EXP000005,630910,Worn clothing,NL,NL,UK,,SEA,NLRTM,20000,20400,,KGM,16000.00,EUR,400,HLXU1111114' \
  '26NLSMPL0000000906,2026-01-05,IM,DCL0003,IMP000006,EXP000006,030192,Live eels,FR,FR,NL,XX,AIR,NLSPL,150,190,,KGM,140000.00,EUR,6,' \
  >> "$csv"
printf '26NLSMPL0000000907,2026-01-05,IM,DCL0004,IMP000007,EXP000007,050790,Horn carvings \xff\xfe,NG,NG,NL,,POST,NLVLI,2.5,3.0,4,PCE,80.00,USD,1,\n' >> "$csv"

jsonl=$here/declarations-2026-01-05.jsonl.gz
{
  "$gen" "${opts[@]}" --format jsonl
  printf '%s\n' \
    '{"id":"26NLSMPL0000000901","date":"2026-01-05","flow":"IM","declarant":"DCL0001","importer":"IMP000001","exporter":"EXP000001","hs":"0106.9X","description":"Live reptiles","origin":"TG","export_country":"TG","destination":"NL","mode":"AIR","office":"NLSPL","net_kg":12.5,"gross_kg":14.0,"quantity":40,"unit":"NAR","value":5200.00,"currency":"EUR","packages":2}' \
    '{"id":"26NLSMPL0000000902","date":"2026-01-05","flow":"IM","declarant":"DCL0001","importer":"IMP000002","exporter":"EXP000002","hs":"290371","description":"Refrigerant gas","origin":"CN","export_country":"CN","destination":"NL","mode":"SEA","office":"NLRTM","net_kg":4000,"gross_kg":4300,"unit":"KGM","value":9000.00,"currency":"ZZZ","packages":160,"container":"MSCU1234565"}' \
    '{"id":"26NLSMPL0000000903","date":"2026-01-05","flow":"IM","declarant":"DCL0002","importer":"IMP000003","exporter":"EXP000003","hs":"391510","description":"Plastic scrap in bales","origin":"GB","export_country":"GB","destination":"NL","mode":"SEA","office":"NLRTM","net_kg":22000,"gross_kg":21000,"unit":"KGM","value":4400.00,"currency":"EUR","packages":20,"container":"MAEU7654324"}' \
    '{"id":"","date":"2026-01-05","flow":"IM","declarant":"DCL0002","importer":"IMP000004","exporter":"EXP000004","hs":"440729","description":"Sawn tropical wood","origin":"CM","export_country":"CM","destination":"NL","mode":"SEA","office":"NLRTM","net_kg":18000,"gross_kg":18500,"unit":"KGM","value":30000.00,"currency":"USD","packages":12}' \
    '{"id":"26NLSMPL0000000905","date":"2026-01-05","flow":"EX","declarant":"DCL0003","importer":"IMP000005","exporter":"EXP000005","hs":"630910","description":"Worn clothing","origin":"NL","export_country":"NL","destination":"UK","mode":"SEA","office":"NLRTM","net_kg":20000,"gross_kg":20400,"unit":"KGM","value":16000.00,"currency":"EUR","packages":400,"container":"HLXU1111114"}' \
    '{"id":"26NLSMPL0000000906","date":"2026-01-05","flow":"IM","declarant":"DCL0003","importer":"IMP000006","exporter":"EXP000006","hs":"030192","description":"Live eels","origin":"FR","export_country":"FR","destination":"NL","transit":["XX"],"mode":"AIR","office":"NLSPL","net_kg":150,"gross_kg":190,"unit":"KGM","value":140000.00,"currency":"EUR","packages":6}' \
    '{"id":"26NLSMPL0000000907","date":"2026-01-05","flow":"IM","declarant":"DCL0004","importer":"IMP000007","exporter":"EXP000007","hs":"050790","description":"Horn carvings","origin":"NG","export_country":"NG","destination":"NL","mode":"POST","office":"NLVLI","net_kg":NaN,"gross_kg":3.0,"quantity":4,"unit":"PCE","value":80.00,"currency":"USD","packages":1}'
} | gzip -9n > "$jsonl"
