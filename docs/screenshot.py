"""Regenerate the screenshots in docs/: the notebook views inside a real JupyterLab page.

The views are shown the way a user sees them: a notebook is built and executed (nbclient,
python3 kernel), exported with nbconvert's JupyterLab template in the light and the dark theme
(JupyterLab's own style sheet, whose ``td {text-align: right}`` and friends the views must
survive), and each page is shot in headless Chromium. The same pages are checked at 800 px:
no horizontal scrolling of the page, table cells left-aligned despite JupyterLab's rule, and
``CREATE INDEX`` text not broken inside a word. Run from the repository root::

    apt-get install -y chromium      # not needed by the tests or CI
    pip install nbconvert nbclient ipykernel
    python docs/screenshot.py

Writes docs/plan.png (the README's picture) and docs/<view>-<theme>.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

SETUP = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import planalyzer as pa
from planalyzer.advisor.model import Advice, KeyColumn, QueryAdvice, Recommendation
from planalyzer.display.html import render_plan_html
from IPython.display import HTML
big = pa.load({str(ROOT / "tests/corpus/pev2/very_large_plan_object_form.json")!r})
small = pa.load({str(ROOT / "fixtures/plans/nested-loop-blowup/fires--underestimated-outer.json")!r})
spill = pa.load({str(ROOT / "fixtures/plans/sort-spill/fires--external-merge.json")!r})
"""

# One cell per view; the first line of each is a comment naming the screenshot.
VIEWS = {
    "report": "# report\npa.analyze(small)",
    "big-plan": "# big-plan\npa.analyze(big)",
    "compare": """# compare
doc = spill.to_json()
node = doc[0]["Plan"]
while node["Node Type"] != "Sort":
    node = node["Plans"][0]
saved = node["Actual Total Time"] * 2 / 3
node.update({"Sort Method": "quicksort", "Sort Space Type": "Memory", "Sort Space Used": 900,
             "Actual Total Time": node["Actual Total Time"] - saved})
for key in ("Temp Read Blocks", "Temp Written Blocks"):
    node.pop(key, None)
doc[0]["Plan"]["Actual Total Time"] -= saved
doc[0]["Execution Time"] -= saved
pa.compare(spill, pa.parse(doc))""",
    "advice": """# advice
create = ("CREATE INDEX CONCURRENTLY orders_customer_id_created_at_idx ON public.orders "
          "USING btree (customer_id, created_at DESC)")
rec = Recommendation(
    name="orders_customer_id_created_at_idx", table="public.orders",
    columns=("customer_id", "created_at DESC"),
    key_columns=(KeyColumn(name="customer_id"), KeyColumn(name="created_at", descending=True)),
    create_sql=create, drop_sql="DROP INDEX CONCURRENTLY public.orders_customer_id_created_at_idx",
    size_bytes=6_750_000, queries=(0, 2), cost_before=18_020.5, cost_after=16.9,
    fixes=("`Seq Scan on orders` → Index Scan using <13566>btree_orders_customer_id",),
    reasons=("equality on `customer_id`, then the ORDER BY column",))
queries = tuple(
    QueryAdvice(position=i, weight=w, cost_before=9010.25, cost_after=8.45 if i != 1 else 9010.25,
                sql=f"SELECT * FROM orders WHERE customer_id = {i + 1} ORDER BY created_at DESC",
                indexes_used=("<13566>btree_orders_customer_id_created_at",) if i != 1 else ())
    for i, w in enumerate((10.0, 1.0, 5.0)))
Advice(recommendations=(rec,), per_query=queries,
       cost_before=sum(q.cost_before * q.weight for q in queries),
       cost_after=sum(q.cost_after * q.weight for q in queries))""",
    "buffers": "# buffers\nHTML(render_plan_html(big, heat='buffers'))",
}

# Measured in the page after load, written where --dump-dom can read it. Only the harness
# runs JavaScript; the views themselves have none.
PROBE = """
<script>
window.addEventListener("load", () => {
  const out = {overflow: document.documentElement.scrollWidth - window.innerWidth,
               rightAligned: [], brokenSql: []};
  for (const td of document.querySelectorAll("div.pa-view td:not(.pa-num)")) {
    if (getComputedStyle(td).textAlign !== "left") out.rightAligned.push(td.textContent.slice(0, 40));
  }
  for (const code of document.querySelectorAll("div.pa-view td code")) {
    const style = getComputedStyle(code);
    if (style.wordBreak !== "normal" || style.overflowWrap === "anywhere")
      out.brokenSql.push(code.textContent.slice(0, 40));
  }
  const pre = document.createElement("pre");
  pre.id = "pa-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _browser() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    return browser


def _chromium(scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={scratch}/profile", *args,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip


def executed_notebook() -> object:
    """A notebook with one cell per view, executed in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in VIEWS.values()]
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    return nb


def export(nb: object, theme: str, keep: str | None = None) -> str:
    """The notebook as JupyterLab's HTML export in ``theme``, optionally only one view's cell."""
    import copy

    import nbformat
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells[1:] if keep is None or c.source.startswith(f"# {keep}\n")]  # type: ignore[attr-defined]
    nb.cells = cells  # type: ignore[attr-defined]
    exporter = HTMLExporter(template_name="lab", theme=theme, exclude_input=True)
    body, _ = exporter.from_notebook_node(nbformat.from_dict(nb))
    return body


def check(scratch: Path, page: Path) -> dict[str, object]:
    """Load ``page`` at 800 px and return what the probe measured."""
    probed = page.with_suffix(".probe.html")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _chromium(scratch, "--window-size=800,900", "--virtual-time-budget=5000", "--dump-dom",
                    probed.as_uri()).stdout  # fmt: skip
    match = re.search(r'<pre id="pa-probe">(.*?)</pre>', dom, re.S)
    if match is None:
        raise SystemExit(f"the probe did not run on {page.name}")
    import html

    result: dict[str, object] = json.loads(html.unescape(match.group(1)))
    return result


def main() -> None:
    nb = executed_notebook()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for theme in ("light", "dark"):
            page = scratch / f"all-{theme}.html"
            page.write_text(export(nb, theme), encoding="utf-8")
            measured = check(scratch, page)
            print(f"{theme}: {measured}")
            if measured["overflow"] or measured["rightAligned"] or measured["brokenSql"]:
                problems.append((theme, measured))
            for view in VIEWS:
                one = scratch / f"{view}-{theme}.html"
                one.write_text(export(nb, theme, keep=view), encoding="utf-8")
                target = DOCS / f"{view}-{theme}.png"
                _chromium(scratch, f"--screenshot={target}", "--window-size=1100,900",
                          "--virtual-time-budget=3000", one.as_uri())  # fmt: skip
                print(f"wrote {target.relative_to(ROOT)}")
    shutil.copyfile(DOCS / "report-light.png", DOCS / "plan.png")
    print("wrote docs/plan.png (= report-light.png)")
    if problems:
        raise SystemExit(f"layout problems at 800 px: {problems}")


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
