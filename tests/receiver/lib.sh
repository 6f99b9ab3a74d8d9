# lib.sh — shell helpers for the delivery tests (sourced, not run), on top of
# tests/lib.sh (fail, check_eq, the scratch directory $T, the CEN-style
# receiver's rx_start / rx_stop, free_port; everything started is stopped by
# its EXIT trap): alert generation and the id sets the tests compare.
set -euo pipefail
: "${ECORISK:?ECORISK must point to the ecorisk binary}"
: "${ECORISK_SRC:?ECORISK_SRC must point to the source tree}"
. "$ECORISK_SRC/tests/lib.sh"
GEN_PY="$ECORISK_SRC/tests/receiver/gen_alerts.py"

gen_alerts() { "$PY" "$GEN_PY" "$@"; }

# Sorted alert ids of a JSONL file.
ids_jsonl() { "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    l=l.strip()
    if l: print(json.loads(l)["alert_id"])' "$1" | sort; }

# Sorted alert ids in an outbox state directory (pending, sent, dead).
ids_outbox() { "$PY" -c 'import json,sys,os,glob
for p in glob.glob(os.path.join(sys.argv[1], sys.argv[2], "*.json")):
    if p.endswith((".receipt.json", ".response.json")): continue
    for a in json.load(open(p)): print(a["alert_id"])' "$1" "$2" | sort; }

# Sorted unique alert ids the receiver stored (empty if nothing yet).
ids_received() { if [ -f "$1/alerts.jsonl" ]; then ids_jsonl "$1/alerts.jsonl"; fi; }

count_lines() { if [ -f "$1" ]; then grep -c . "$1" || true; else echo 0; fi; }

# JSON field of the push summary line (stdout of ecorisk push).
summary_field() { "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"; }
