#!/usr/bin/env python3
"""dask_scaleout.py — the scale-out recipe of docs/scaling.md on a Dask
distributed cluster (Debian: python3-distributed).

Map:    every partition of the history goes through
        `ecorisk baseline build --feed - --out -` on a worker;
        every partition of the day through
        `ecorisk run --feed - --out - --baseline merged.json` on a worker.
Reduce: the shard baselines are merged on the client (`ecorisk baseline
        merge`); the shards' alerts are merged into the single machine's
        order — risk descending, ties in declaration order (docs/scoring.md
        §6) — with each `declaration.line` put back to the line of the whole
        day, so the merged alerts are byte-identical to one `ecorisk run` over
        the day; the shards' counts (stderr summary line) are added.

A task is a pure function of its partition: if a worker dies, the scheduler
reruns its task elsewhere and the bytes are the same (docs/scaling.md).

Usage:
  dask_scaleout.py --scheduler-file sched.json --ecorisk /path/ecorisk \
      --history hist.csv --day day.csv --as-of 2025-11-20 --parts 8 --out DIR \
      [--threads 1] [--hold DIR] [-- extra `ecorisk run` options]
Writes DIR/baseline.json, DIR/alerts.jsonl, DIR/counts.json; prints the
phase timings as one JSON line on stdout.
--hold DIR (tests): the task of day partition 0 writes DIR/started.PID and
waits (at most 60 s) for DIR/go before it runs, so that a test can kill its
worker mid-task and watch the task rerun on another worker.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

from distributed import Client

# Partitions and the merged baseline travel inside the tasks, not scattered
# ahead: scattered data lives on the workers that hold it and dies with them
# (even broadcast, a worker killed before the copies are confirmed takes the
# only one, and the scheduler then cancels every task needing it), while a
# task's own arguments stay with the scheduler, which can rerun it elsewhere.
warnings.filterwarnings("ignore", message="Large object of size")

SUMMARY = re.compile(r"run [0-9a-f]+: (\d+) read, (\d+) accepted, (\d+) quarantined; (\d+) alerts "
                     r"\(red (\d+), yellow (\d+), blue (\d+), green (\d+); "
                     r"wildlife (\d+), ods (\d+), waste (\d+)\)")
COUNT_NAMES = ("read", "accepted", "quarantined", "alerts", "red", "yellow", "blue", "green",
               "wildlife", "ods", "waste")
LINE = re.compile(rb',"line":([0-9]+)')
RISK = re.compile(rb'"risk":([-0-9.eE+]+|null)')


def counts_of(stderr):
    """The counts of `ecorisk run`'s summary line (stderr)."""
    m = SUMMARY.search(stderr)
    if not m:
        raise RuntimeError("no run summary on stderr:\n" + stderr)
    return dict(zip(COUNT_NAMES, (int(x) for x in m.groups())))


def ecorisk(exe, args, data):
    """Run one ecorisk stream filter; stdout bytes and stderr text, or raise."""
    p = subprocess.run([exe] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
    if p.returncode != 0:
        raise RuntimeError("ecorisk %s: exit %d\n%s" % (args[0], p.returncode,
                                                       p.stderr.decode(errors="replace")))
    return p.stdout, p.stderr.decode(errors="replace")


def build_task(exe, fmt, data):
    out, _ = ecorisk(exe, ["baseline", "build", "--feed", "-", "--format", fmt, "--out", "-", "-q"],
                     data)
    return out


def score_task(exe, fmt, data, baseline, run_args, hold):
    if hold:
        open(os.path.join(hold, "started.%d" % os.getpid()), "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(hold, "go")) and time.monotonic() < deadline:
            time.sleep(0.05)
    # the baseline is cached on the worker under its digest
    path = os.path.join(tempfile.gettempdir(),
                        "ecorisk-baseline-%s.json" % hashlib.sha256(baseline).hexdigest()[:32])
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            f.write(baseline)
        os.replace(tmp, path)
    return ecorisk(exe, ["run", "--feed", "-", "--format", fmt, "--out", "-", "--baseline", path]
                   + run_args, data)


def partitions(path, parts):
    """(first data row index, bytes) per contiguous partition; CSV keeps its header."""
    with open(path, "rb") as f:
        lines = f.readlines()
    header = []
    if not path.endswith((".jsonl", ".ndjson")):
        header, lines = lines[:1], lines[1:]
    per = max(1, -(-len(lines) // parts))
    return [(i, b"".join(header + lines[i:i + per])) for i in range(0, len(lines), per)], len(header)


def merge_alerts(shards):
    """Merge the shards' alerts into the single run's bytes and order. A shard's
    line L (CSV: header on line 1; JSON Lines: none) is row first_row + L - 2
    (CSV) or first_row + L - 1 (JSON Lines) of its shard, hence line
    first_row + L of the whole day in both formats."""
    keyed = []
    for first_row, out in shards:
        for k, raw in enumerate(out.splitlines(keepends=True)):
            m = LINE.search(raw)
            line = int(m.group(1)) + first_row
            raw = raw[:m.start(1)] + str(line).encode() + raw[m.end(1):]
            r = RISK.search(raw).group(1)
            risk = float("-inf") if r == b"null" else float(r)
            keyed.append((-risk, line, k, raw))
    keyed.sort()
    return b"".join(k[3] for k in keyed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scheduler-file", required=True)
    ap.add_argument("--ecorisk", required=True)
    ap.add_argument("--history", required=True)
    ap.add_argument("--day", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1, help="--threads of each ecorisk task")
    ap.add_argument("--workers", type=int, default=1,
                    help="workers to wait for (60 s) before submitting: a worker started just before "
                         "may not have registered yet")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hold")
    ap.add_argument("run_args", nargs="*", help="extra `ecorisk run` options (after --)")
    a = ap.parse_args()
    exe = os.path.abspath(a.ecorisk)
    fmt = lambda p: "jsonl" if p.endswith((".jsonl", ".ndjson")) else "csv"
    os.makedirs(a.out, exist_ok=True)
    client = Client(scheduler_file=a.scheduler_file, timeout="20s")
    try:
        client.wait_for_workers(a.workers, timeout=60)
        workers = len(client.scheduler_info().get("workers", {}))
        t0 = time.monotonic()
        hist, _ = partitions(a.history, a.parts)
        futs = [client.submit(build_task, exe, fmt(a.history), d, key="baseline-build-%d" % i,
                              pure=False) for i, (_, d) in enumerate(hist)]
        shard_baselines = client.gather(futs)
        with tempfile.TemporaryDirectory() as td:
            names = []
            for i, b in enumerate(shard_baselines):
                names.append(os.path.join(td, "shard-%d.json" % i))
                with open(names[-1], "wb") as f:
                    f.write(b)
            merged, _ = ecorisk(exe, ["baseline", "merge"] + names + ["--out", "-", "-q"], b"")
        with open(os.path.join(a.out, "baseline.json"), "wb") as f:
            f.write(merged)
        t1 = time.monotonic()

        day, _ = partitions(a.day, a.parts)
        run_args = ["--as-of", a.as_of, "--threads", str(a.threads)] + a.run_args
        futs = [client.submit(score_task, exe, fmt(a.day), d, merged, run_args,
                              a.hold if i == 0 else None, key="score-%d" % i, pure=False)
                for i, (_, d) in enumerate(day)]
        results = client.gather(futs)
        alerts = merge_alerts([(first, out) for (first, _), (out, _) in zip(day, results)])
        counts = dict.fromkeys(COUNT_NAMES, 0)
        for _, err in results:
            for k, v in counts_of(err).items():
                counts[k] += v
        with open(os.path.join(a.out, "alerts.jsonl"), "wb") as f:
            f.write(alerts)
        with open(os.path.join(a.out, "counts.json"), "w") as f:
            json.dump(counts, f, sort_keys=True)
            f.write("\n")
        t2 = time.monotonic()
    finally:
        client.close()
    print(json.dumps({"history_parts": len(hist), "day_parts": len(day), "workers": workers,
                      "baseline_s": round(t1 - t0, 3), "score_s": round(t2 - t1, 3),
                      "day_rows": counts["read"], "alerts": counts["alerts"],
                      "day_rows_per_s": round(counts["read"] / max(t2 - t1, 1e-9))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
