#!/usr/bin/env python3
# make_countries.py — derives feeds/reference/countries.csv from the ISO 3166-1
# table with OECD / EU membership flags (isocountry-memberships.csv, from
# m-muecke/isocountry, MIT; see shared/data/PROVENANCE.md). Re-run when the
# source table changes:  python3 make_countries.py SRC.csv > countries.csv
import csv, sys

src = sys.argv[1]
out = csv.writer(sys.stdout, lineterminator="\n")
print("# ISO 3166-1 countries; derived by make_countries.py from isocountry-memberships.csv "
      "(m-muecke/isocountry @ 2e916f3c, MIT). oecd/eu: 1 = member.")
out.writerow(["alpha2", "alpha3", "name", "region", "subregion", "oecd", "eu"])
with open(src, newline="", encoding="utf-8") as f:
    rows = sorted(csv.DictReader(f), key=lambda r: r["alpha_2"])
for r in rows:
    na = lambda v: "" if v == "NA" else v
    out.writerow([r["alpha_2"], r["alpha_3"], r["name"], na(r["region_name"]),
                  na(r["subregion_name"]), 1 if r["oecd_member"] == "TRUE" else 0,
                  1 if r["eu_member"] == "TRUE" else 0])
