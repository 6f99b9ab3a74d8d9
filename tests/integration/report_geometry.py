#!/usr/bin/env python3
"""report_geometry.py — the no-clipped-labels check of report_chromium.sh.

  report_geometry.py REPORT.html OUT.html   a copy of the report with a script that,
                                            once Chromium has laid the page out, measures
                                            every SVG text (getBBox) against its chart's
                                            width and appends <pre id="clip-check">
  report_geometry.py --result DOM.html      prints that element's text: "texts N clipped K"
                                            and one line per text outside its chart
"""
import re
import sys

SCRIPT = """<script>
window.addEventListener('load', function () {
  var out = [], n = 0;
  document.querySelectorAll('svg').forEach(function (s) {
    var vb = s.viewBox && s.viewBox.baseVal, w = vb && vb.width ? vb.width : s.width.baseVal.value;
    s.querySelectorAll('text').forEach(function (t) {
      var b = t.getBBox(); n++;
      if (b.x < -0.5 || b.x + b.width > w + 0.5)
        out.push(t.textContent + ' [' + b.x.toFixed(1) + ', ' + (b.x + b.width).toFixed(1) + '] in ' + w);
    });
  });
  var p = document.createElement('pre');
  p.id = 'clip-check';
  p.textContent = 'texts ' + n + ' clipped ' + out.length + (out.length ? '\\n' + out.join('\\n') : '');
  document.body.appendChild(p);
});
</script>"""

if len(sys.argv) == 3 and sys.argv[1] == "--result":
    m = re.search(r'<pre id="clip-check">(.*?)</pre>', open(sys.argv[2], encoding="utf-8").read(), re.S)
    print(m.group(1) if m else "no result: the check did not run")
elif len(sys.argv) == 3:
    html = open(sys.argv[1], encoding="utf-8").read()
    if "</body>" not in html:
        sys.exit("report_geometry: no </body> in " + sys.argv[1])
    open(sys.argv[2], "w", encoding="utf-8").write(html.replace("</body>", SCRIPT + "</body>"))
else:
    sys.exit(__doc__)
