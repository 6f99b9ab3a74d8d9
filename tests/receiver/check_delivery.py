#!/usr/bin/env python3
"""check_delivery.py — the delivery invariant, checked in one process (the
fault tests call it after every kill or injected failure):

  check_delivery.py --alerts alerts.jsonl --received rx/alerts.jsonl --outbox ob [--complete]
  check_delivery.py --received rx/alerts.jsonl --round ALERTS OUTBOX SUMMARY ... [--complete]
     (several rounds at once; SUMMARY is the push's stdout, or - for none)

  * received ∩ alerts  ∪  pending  ==  alerts   (nothing lost)
  * every alert in sent/ is in received          (nothing reported sent that was not)
  * every batch file is named by its SHA-256     (no partial or foreign batch)
  * received holds each alert_id at most once    (the receiver deduplicated)
  * with --complete: received ∩ alerts == alerts and pending is empty
  * the summary's delivered_alerts <= the alerts in sent/ (nothing reported
    delivered that was not recorded; each round uses a fresh outbox)
Prints one summary line; exit 1 with the reason when an invariant fails."""
import argparse
import hashlib
import json
import os
import sys


def batch_ids(outbox, state):
    ids, d = [], os.path.join(outbox, state)
    if not os.path.isdir(d):
        return ids, 0
    n = 0
    for f in sorted(os.listdir(d)):
        if not f.endswith(".json") or f.endswith((".receipt.json", ".response.json")):
            continue
        raw = open(os.path.join(d, f), "rb").read()
        if hashlib.sha256(raw).hexdigest() + ".json" != f:
            sys.exit(f"FAIL: {state}/{f}: content does not match its name")
        ids += [a["alert_id"] for a in json.loads(raw)]
        n += 1
    return ids, n


def check(alerts, received_list, outbox, summary, complete):
    want = {json.loads(l)["alert_id"] for l in open(alerts) if l.strip()}
    rx = set(received_list) & want
    pending, n_pending = batch_ids(outbox, "pending")
    sent, n_sent = batch_ids(outbox, "sent")
    dead, n_dead = batch_ids(outbox, "dead")
    lost = want - rx - set(pending)
    if lost:
        sys.exit(f"FAIL {outbox}: {len(lost)} alerts neither received nor pending (e.g. {sorted(lost)[0]})")
    ghost = set(sent) - rx
    if ghost:
        sys.exit(f"FAIL {outbox}: {len(ghost)} alerts in sent/ never reached the receiver")
    if complete and (rx != want or pending):
        sys.exit(f"FAIL {outbox}: incomplete: {len(rx)} of {len(want)} received, {len(pending)} pending")
    if summary and summary != "-":
        lines = open(summary).read().splitlines()
        if lines:
            delivered = json.loads(lines[-1])["delivered_alerts"]
            if delivered > len(sent):
                sys.exit(f"FAIL {outbox}: {delivered} alerts reported delivered, {len(sent)} in sent/")
    print(f"ok {outbox}: {len(want)} alerts, {len(rx)} received, {len(pending)} pending in {n_pending} "
          f"batches, {n_sent} batches sent, {n_dead} dead")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts")
    ap.add_argument("--received", required=True)
    ap.add_argument("--outbox")
    ap.add_argument("--summary", default="-")
    ap.add_argument("--round", nargs=3, action="append", default=[])
    ap.add_argument("--complete", action="store_true")
    a = ap.parse_args()
    rx_list = []
    if os.path.exists(a.received):
        rx_list = [json.loads(l)["alert_id"] for l in open(a.received) if l.strip()]
    if len(rx_list) != len(set(rx_list)):
        sys.exit("FAIL: the receiver stored an alert twice")
    rounds = list(a.round)
    if a.alerts:
        rounds.append((a.alerts, a.outbox, a.summary))
    for alerts, outbox, summary in rounds:
        check(alerts, rx_list, outbox, summary, a.complete)


if __name__ == "__main__":
    main()
