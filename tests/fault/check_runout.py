#!/usr/bin/env python3
"""check_runout.py DIR [RUN_ID...] | --list FILE

DIR holds exactly one complete output set: summary.json's manifest ("files")
lists every other file with its size and SHA-256, the directory holds nothing
else, and (when given) the run_id is one of RUN_IDs. Prints the run_id.
--list FILE: check every line "DIR RUN_ID..." of FILE; prints one run_id per
line. Exit 1 with a reason at the first set that is not whole."""
import hashlib, json, os, sys


def check(d, ids):
    try:
        s = json.load(open(os.path.join(d, "summary.json")))
    except Exception as e:
        sys.exit("no readable summary.json in %s: %s" % (d, e))
    names = {f["name"] for f in s["files"]}
    present = set(os.listdir(d)) - {"summary.json"}
    if present != names:
        sys.exit("%s: files %s, manifest %s" % (d, sorted(present), sorted(names)))
    for f in s["files"]:
        p = os.path.join(d, f["name"])
        if os.path.islink(p):
            sys.exit("%s is a symlink" % p)
        b = open(p, "rb").read()
        if len(b) != f["bytes"] or hashlib.sha256(b).hexdigest() != f["sha256"]:
            sys.exit("%s: size/sha256 differ from the manifest (a mixed set)" % p)
    if ids and s["run_id"] not in ids:
        sys.exit("%s: run_id %s is none of %s" % (d, s["run_id"], ids))
    print(s["run_id"])


if sys.argv[1] == "--list":
    for line in open(sys.argv[2]):
        w = line.split()
        check(w[0], w[1:])
else:
    check(sys.argv[1], sys.argv[2:])
