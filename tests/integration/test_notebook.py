"""The example notebook executes end to end against the test server (nbclient, python3 kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import psycopg
import pytest
from nbclient import NotebookClient

from tests.unit.display.html_check import assert_well_formed
from tests.unit.display.tree import parse_tree

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "investigate_slow_query.ipynb"


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client/zmq internals
def test_notebook_executes_and_shows_every_view(demo_dsn, monkeypatch):
    indexes_before = _index_names(demo_dsn)
    monkeypatch.setenv("PLANALYZER_DSN", demo_dsn)  # the kernel inherits the environment
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()

    def outputs_of(source_start: str) -> list[dict]:
        cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start)]
        assert cells, source_start
        return cells[0].outputs

    def html_of(source_start: str) -> str:
        (result,) = [o for o in outputs_of(source_start) if o.output_type == "execute_result"]
        assert "text/plain" in result.data
        return result.data["text/html"]

    plan_html = html_of("sql = (")
    assert "Seq Scan on orders o" in assert_well_formed(plan_html).text
    report_text = assert_well_formed(html_of("report = pa.analyze")).text
    assert "seq-scan" in report_text
    advice_text = assert_well_formed(html_of("workload = [")).text
    assert "CREATE INDEX CONCURRENTLY" in advice_text
    diff_text = assert_well_formed(html_of("with psycopg.connect(dsn) as scratch")).text
    assert "faster" in diff_text
    printed = "".join(o.get("text", "") for o in outputs_of("print(diff)"))
    assert printed.startswith("Plan comparison: time")
    tree = "".join(o.get("text", "") for o in outputs_of("print(plan)"))
    assert "Seq Scan on orders o" in tree
    problems = "".join(o.get("text", "") for o in outputs_of("for number, problem"))
    assert problems.startswith("1. ")
    assert " impact " in problems
    navigation = "".join(o.get("text", "") for o in outputs_of("scan = plan.find("))
    assert "nodes; the scan on orders is node" in navigation
    assert "Seq Scan on orders o" in navigation
    buffers = assert_well_formed(html_of("from IPython.display import HTML")).text
    assert "Which nodes touch the most buffer blocks" in buffers
    report_html = html_of("report = pa.analyze")
    links = parse_tree(report_html)
    hrefs = {e.attrs["href"][1:] for e in links.elements if e.tag == "a"}
    assert hrefs
    assert hrefs <= set(links.by_id)  # every finding/node link lands inside the view
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert _index_names(demo_dsn) == indexes_before  # the real build was rolled back


def _index_names(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        return {name for (name,) in rows}
