#!/usr/bin/env bash
# report_chromium.sh — the run report opens in headless Chromium: a real run
# on the analyst fixture (with a backtest and an outcome store) and the
# hand-written run of tests/fixtures/analyst/run1 are rendered, the DOM is
# dumped and the charts (inline SVG), bars and alert-table rows are counted,
# and a screenshot is taken. The report must reference nothing outside itself.
set -euo pipefail
: "${ECORISK:?}" "${ECORISK_SRC:?}"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "report_chromium: chromium is not installed; install the Debian package 'chromium'" \
         "(apt-get install -y chromium; listed in docker/install-deps.sh)" >&2
    exit 1
fi
F="$ECORISK_SRC/tests/fixtures/analyst"
. "${ECORISK_SRC:?}/tests/lib.sh"   # fail, scratch directory $T removed at exit
cd "$F"
PROFILES=(--profiles pack-a-wildlife.json --profiles pack-waste.json)

chrome() {   # chrome OUT_KIND OUT_FILE HTML
    local profile
    profile=$(mktemp -d -p "$T")
    local args=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
                --disable-component-update --disable-sync --user-data-dir="$profile" --window-size=1280,3600)
    if [ "$1" = dom ]; then
        timeout 120 "$CHROMIUM" "${args[@]}" --dump-dom "file://$3" > "$2" 2> "$T/chromium.log"
    else
        timeout 120 "$CHROMIUM" "${args[@]}" --screenshot="$2" "file://$3" > /dev/null 2> "$T/chromium.log"
    fi
}

# A real run, its backtest and recorded outcomes.
"$ECORISK" run --feed labelled.csv "${PROFILES[@]}" --out "$T/run" 2> /dev/null
"$ECORISK" backtest --feed labelled.csv --label-field seized "${PROFILES[@]}" --out "$T/bt.json" > /dev/null
"$ECORISK" outcomes add --file outcomes.csv --store "$T/store" 2> /dev/null
"$ECORISK" report --run "$T/run" --backtest "$T/bt.json" --outcomes "$T/store" --out "$T/report.html" 2> /dev/null
test "$(wc -l < "$T/run/alerts.jsonl")" -eq 8

# Self-contained: no external scripts, styles, images or links.
if grep -Eq '(src|href)="[^"]*"' "$T/report.html"; then
    echo "report references external resources:"; grep -Eo '(src|href)="[^"]*"' "$T/report.html"; exit 1
fi
if [ -n "$(grep -o 'https\?://[^" ]*' "$T/report.html" | grep -v '^http://www.w3.org/2000/svg$')" ]; then
    echo "report contains URLs other than the SVG namespace"; exit 1
fi

count() {   # count DOM_FILE -> "charts bars alert_rows anomaly_rows intervals"
    python3 - "$1" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts = self.bars = self.rows = self.an_rows = self.intervals = 0
        self.table = None
        self.tbody = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "svg" and "chart-svg" in cls:
            self.charts += 1
        if tag == "g" and "bar" in cls:
            self.bars += 1
        if tag == "g" and "interval" in cls:
            self.intervals += 1
        if tag == "table":
            self.table = a.get("id") or a.get("class")
        if tag == "tbody":
            self.tbody = True
        if tag == "tr" and self.tbody:
            if self.table == "alert-table":
                self.rows += 1
            elif self.table == "anomaly-table":
                self.an_rows += 1
    def handle_endtag(self, tag):
        if tag == "tbody":
            self.tbody = False
        if tag == "table":
            self.table = None
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print(p.charts, p.bars, p.rows, p.an_rows, p.intervals)
EOF
}

chrome dom "$T/dom.html" "$T/report.html"
grep -q '<title>ecorisk run ' "$T/dom.html"
# 9 charts: domains, lanes, profiles, scores, routes, origins, anomalies, backtest, outcomes.
# Bars: 3 domains + 4 lanes + 3 profiles + 10 score bins + 6 routes (MG, NG, US, CM -> FR; FR -> NG, DE)
# + 5 origins (MG NG US CM FR) + 0 anomaly features (no baseline).
# Alert table: the 8 alerts. Interval rows: 3 backtest profiles + 3 alerting profiles with outcomes.
read -r charts bars rows an_rows intervals < <(count "$T/dom.html")
test "$charts $bars $rows $intervals" = "9 31 8 6" || { echo "got charts/bars/rows/intervals: $charts $bars $rows $intervals"; exit 1; }
test "$an_rows" -eq 1   # the "no anomalies" row
grep -q '<td>R4</td>' "$T/dom.html"
grep -q 'seized' "$T/dom.html"

chrome shot "$T/report.png" "$T/report.html"
test "$(head -c 8 "$T/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
test "$(stat -c %s "$T/report.png")" -gt 20000

# The hand-written run with anomalies: 12 alerts, 7 anomalies, 5 features at p < 0.05.
"$ECORISK" report --run run1 --backtest run1-backtest.json --out "$T/run1.html" 2> /dev/null
chrome dom "$T/dom1.html" "$T/run1.html"
read -r charts bars rows an_rows intervals < <(count "$T/dom1.html")
# 8 charts (no outcome store); bars: 3 + 4 + 8 profiles + 10 + 10 routes + 10 origins + 5 features.
test "$charts $bars $rows $an_rows $intervals" = "8 50 12 7 4" \
    || { echo "run1: got $charts $bars $rows $an_rows $intervals"; exit 1; }
# Escaping: the description with quotes and angle brackets survives as text.
grep -q 'Tropical logs &lt;kosso&gt;' "$T/dom1.html"

# The alert table as read: highest risk first, then lane (red first), then file order (the
# fixture's alerts carry no risk, so its rows go by lane), each row with the
# profile title, the goods description as text, and every fired indicator's reason
# and evidence; p-values as numbers.
python3 - "$T/dom1.html" run1/alerts.jsonl <<'EOF'
import json, sys
from html.parser import HTMLParser
class T(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cell = None; self.inside = False
    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == "alert-table": self.inside = True
        if self.inside and tag == "tr": self.rows.append([])
        if self.inside and tag == "td": self.cell = []
        if self.cell is not None and tag == "br": self.cell.append("\n")
    def handle_endtag(self, tag):
        if tag == "table": self.inside = False
        if self.inside and tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip()); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell.append(d)
t = T(); t.feed(open(sys.argv[1], encoding="utf-8").read())
rows = [r for r in t.rows if r]
alerts = [json.loads(l) for l in open(sys.argv[2])]
lanes = ["red", "yellow", "blue", "green"]
key = lambda a: ("risk" not in a, -a.get("risk", 0), lanes.index(a["lane"]) if a["lane"] in lanes else 4)
alerts.sort(key=key)   # stable: ties in file order
assert [a["lane"] for a in alerts][:5] == ["red"] * 4 + ["yellow"], [a["lane"] for a in alerts]
assert len(rows) == len(alerts), (len(rows), len(alerts))
for r, a in zip(rows, alerts):
    assert r[1] == a["declaration"]["id"], (r[1], a["declaration"]["id"])
    assert a["profile"]["title"] in r[4], (r[4], a["profile"]["title"])
    assert r[9] == a["declaration"].get("description", ""), (r[9], a["declaration"].get("description"))
    for ind in a["indicators"]:
        assert ind["reason"] in r[12] and ind["evidence"] in r[12], (r[12], ind)
    assert "1e-12" not in r[13], r[13]
print("alert table text ok")
EOF
# --max-rows: the highest-risk rows only, and a line saying so
"$ECORISK" report --run run1 --max-rows 3 --out "$T/run1-3.html" 2> /dev/null
chrome dom "$T/dom3.html" "$T/run1-3.html"
read -r charts bars rows an_rows intervals < <(count "$T/dom3.html")
test "$rows" -eq 4 || { echo "--max-rows 3: $rows rows"; exit 1; }
grep -q 'The 3 highest-risk alerts of 12 (report --max-rows)' "$T/dom3.html"

# Deterministic: the same inputs give the same bytes.
"$ECORISK" report --run run1 --backtest run1-backtest.json --out "$T/run1b.html" 2> /dev/null
cmp "$T/run1.html" "$T/run1b.html"
# Errors: a missing run directory, a file that is not a backtest.
rc=0; "$ECORISK" report --run "$T/nope" --out "$T/x.html" 2> /dev/null || rc=$?
test "$rc" -eq 66
rc=0; "$ECORISK" report --run run1 --backtest run1/summary.json --out "$T/x.html" 2> "$T/err" || rc=$?
test "$rc" -eq 65; grep -q 'expected a backtest JSON' "$T/err"
echo "report in chromium: ok"
