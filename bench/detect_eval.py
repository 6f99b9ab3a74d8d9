#!/usr/bin/env python3
"""detect_eval.py — evaluation of the labelled detection benchmark
(bench/detect.sh, docs/scoring.md "Detection benchmark").

Reads the labelled day (columns illicit 0/1 and pattern written by
gen_declarations --illicit-rate), the scores.csv of `ecorisk run --all-scores`
on it, the labelled history (for the unit-value reference) and the shipped
packs (for the HS watch-list reference). Ranks the day by the `risk` column
when scores.csv has one, else by the highest per-domain score; rows without a
score (quarantined) rank last. Prints recall and precision at 1/2/5/10%
inspection and average precision, overall, per domain and per pattern, for
ecorisk and three references computed on the same day, and writes the same
as JSON.

Ties are never broken by file order: every figure is its expected value over
a uniformly random order within each tied block. Precision and recall at k
count the positives of the block straddling k pro rata; AP is the exact
expectation (for a block of n rows holding p positives, after r rows holding
P positives, a position j of the block is positive with probability p/n and,
given that, has P + 1 + (j-1)(p-1)/(n-1) positives at or above it).
"""
import argparse
import csv
import json
import math
import os
import sys
import time

CUR_PER_USD = {"EUR": 0.866, "USD": 1.0, "CNY": 7.11, "GBP": 0.76, "JPY": 156.0}
FRACS = (0.01, 0.02, 0.05, 0.10)
DOMAINS = ("wildlife", "ods", "waste")
PATTERN_DOMAIN = {
    "pangolin-scales": "wildlife", "ivory-as-bone": "wildlife", "rosewood-logs": "wildlife",
    "glass-eels": "wildlife", "reptile-skins": "wildlife", "shark-fin": "wildlife",
    "totoaba-maw": "wildlife", "live-reptiles-as-fish": "wildlife", "hfc-as-hfo-cylinders": "ods",
    "hcfc22-as-hfc134a": "ods", "cfc12-as-blend": "ods",
    "e-waste-as-used-computers": "waste", "plastic-waste-as-polymer": "waste",
    "used-tyres": "waste", "metal-scrap-crt-batteries": "waste",
}


def read_list(lists_dir, name):
    out = []
    with open(os.path.join(lists_dir, name + ".txt"), encoding="utf-8") as f:
        for line in f:
            tok = line.split("#", 1)[0].strip()
            if tok:
                out.append(tok)
    return out


# The HS watch-list reference: the controlled-commodity code lists the packs
# ship (CITES, ODS, HFC, Basel), what a customs office would watch by code.
WATCH_LISTS = ("cites-hs", "ods-hs-2022", "ods-hs-2017", "hfc-hs-2022", "hfc-hs-2017",
               "basel-waste-hs", "basel-hazardous-hs")


def watch_list(profiles_dir):
    acc = set()
    for name in WATCH_LISTS:
        acc.update(read_list(os.path.join(profiles_dir, "lists"), name))
    return tuple(sorted(acc))


def log_unit_value(row, ix):
    try:
        kg = float(row[ix["net_kg"]])
        usd = float(row[ix["value"]]) / CUR_PER_USD[row[ix["currency"]]]
    except (ValueError, KeyError):
        return None
    if kg <= 0 or usd <= 0:
        return None
    return math.log(usd / kg)


def hs6_stats(history):
    """Median and MAD of log unit value per HS6 over the history."""
    by = {}
    with open(history, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        ix = {k: i for i, k in enumerate(next(r))}
        h = ix["hs"]
        for row in r:
            v = log_unit_value(row, ix)
            if v is not None:
                by.setdefault(row[h][:6], []).append(v)
    stats = {}
    for k, vs in by.items():
        if len(vs) < 5:
            continue
        vs.sort()
        med = vs[len(vs) // 2]
        dev = sorted(abs(v - med) for v in vs)
        stats[k] = (med, max(dev[len(dev) // 2] * 1.4826, 1e-6))
    return stats


def read_scores(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        head = next(r)
        if "risk" in head:
            k = head.index("risk")
            return {row[0]: float(row[k]) for row in r}, "risk"
        cols = [head.index(d) for d in DOMAINS if d in head]
        return {row[0]: max(float(row[c]) for c in cols) for row in r}, "max(" + ",".join(DOMAINS) + ")"


def blocks(scores):
    """Tied blocks, highest score first: for each row the (start, size) of its block."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    where = [None] * len(scores)
    i, nblk = 0, 0
    while i < len(order):
        j = i
        s = scores[order[i]]
        while j < len(order) and scores[order[j]] == s:
            j += 1
        blk = (i, j - i)
        for t in range(i, j):
            where[order[t]] = blk
        nblk += 1
        i = j
    return where, nblk


def harmonic(n):
    h = [0.0] * (n + 1)
    for k in range(1, n + 1):
        h[k] = h[k - 1] + 1.0 / k
    return h


def evaluate(where, positives, n, H):
    """Expected recall/precision at FRACS and expected AP of the rows `positives`
    (indices) under the ranking `where` (from blocks); H = harmonic(n)."""
    total = len(positives)
    per = {}
    for i in positives:
        st, nb = where[i]
        per[(st, nb)] = per.get((st, nb), 0) + 1
    ks = [max(1, int(math.ceil(f * n))) for f in FRACS]
    hits = [0.0] * len(ks)
    ap = 0.0
    P = 0
    for (r, nb), p in sorted(per.items()):
        for t, k in enumerate(ks):
            if r < k:
                hits[t] += p * min(nb, k - r) / nb
        # sum over j = 1..nb of (P + 1 + (j-1) q) / (r + j), with
        # P + 1 + (j-1) q = (P + 1 - q (r+1)) + q (r + j)
        q = (p - 1) / (nb - 1) if nb > 1 else 0.0
        acc = (P + 1 - q * (r + 1)) * (H[r + nb] - H[r]) + q * nb
        ap += acc * p / nb
        P += p
    res = {"positives": total}
    for f, h, k in zip(FRACS, hits, ks):
        tag = "%d" % round(f * 100)
        res["recall_at_" + tag] = h / total if total else 0.0
        res["precision_at_" + tag] = h / k
    res["ap"] = ap / total if total else 0.0
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--day", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--history", required=True)
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--wall", type=float, default=0.0, help="wall seconds of the ecorisk run")
    a = ap.parse_args()
    t0 = time.time()
    watch = watch_list(a.profiles)
    cache = a.history + ".uvstats.json"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(a.history):
        with open(cache, encoding="utf-8") as f:
            stats = {k: tuple(v) for k, v in json.load(f).items()}
    else:
        stats = hs6_stats(a.history)
        with open(cache, "w", encoding="utf-8") as f:
            json.dump(stats, f)
    sc, rank_by = read_scores(a.scores)
    ids, label, pattern, s_eco, s_watch, s_uv = [], [], [], [], [], []
    with open(a.day, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        ix = {k: i for i, k in enumerate(next(r))}
        for row in r:
            ids.append(row[ix["id"]])
            label.append(1 if row[ix["illicit"]] == "1" else 0)
            pattern.append(row[ix["pattern"]])
            s_eco.append(sc.get(row[ix["id"]], -1.0))
            hs = row[ix["hs"]]
            s_watch.append(1.0 if hs.startswith(watch) else 0.0)
            v = log_unit_value(row, ix)
            st = stats.get(hs[:6])
            s_uv.append(0.0 if v is None or st is None else max(0.0, (st[0] - v) / st[1]))
    n = len(ids)
    rankers = {
        "ecorisk": s_eco,
        "hs-watch-list": s_watch,
        "unit-value": s_uv,
        "watch-x-low-value": [w * (1.0 + u) for w, u in zip(s_watch, s_uv)],
    }
    subsets = {"overall": [i for i in range(n) if label[i]]}
    for d in DOMAINS:
        subsets[d] = [i for i in subsets["overall"] if PATTERN_DOMAIN.get(pattern[i]) == d]
    for pname in PATTERN_DOMAIN:
        subsets[pname] = [i for i in subsets["overall"] if pattern[i] == pname]
    out = {"rows": n, "illicit": sum(label), "rank_by": rank_by, "ecorisk_wall_s": a.wall,
           "results": {}}
    H = harmonic(n)
    for name, s in rankers.items():
        where, nblk = blocks(s)
        out["results"][name] = {k: evaluate(where, v, n, H) for k, v in subsets.items()}
        o = out["results"][name]["overall"]
        o["tied_blocks"] = nblk
        o["largest_tie_in_top_5pct"] = max((nb for st, nb in set(where) if st < 0.05 * n), default=0)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print_table(out)
    print("evaluation: %.1f s" % (time.time() - t0))


def print_table(out):
    print("rows %d, illicit %d (%.2f%%); ecorisk ranked by %s; ecorisk run %.1f s wall"
          % (out["rows"], out["illicit"], 100.0 * out["illicit"] / max(1, out["rows"]),
             out["rank_by"], out["ecorisk_wall_s"]))
    print("expected values under random order within tied scores\n")
    hdr = "%-27s %-18s %5s %6s %6s %6s %6s %6s %6s %6s %6s %6s" % (
        "subset", "ranking", "n", "R@1", "R@2", "R@5", "R@10", "P@1", "P@2", "P@5", "P@10", "AP")
    print(hdr)
    print("-" * len(hdr))
    res = out["results"]
    for subset in res["ecorisk"]:
        for name in res:
            m = res[name][subset]
            print("%-27s %-18s %5d %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f" % (
                subset if name == "ecorisk" else "", name, m["positives"],
                m["recall_at_1"], m["recall_at_2"], m["recall_at_5"], m["recall_at_10"],
                m["precision_at_1"], m["precision_at_2"], m["precision_at_5"], m["precision_at_10"],
                m["ap"]))
    o = res["ecorisk"]["overall"]
    print("\necorisk: %d distinct score values; largest tied block starting in the top 5%%: %d rows"
          % (o["tied_blocks"], o["largest_tie_in_top_5pct"]))


if __name__ == "__main__":
    sys.exit(main())
