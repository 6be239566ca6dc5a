"""The sample logs in ``data/`` and the truth about them, read independently of planalyzer.

The logs were written by a real PostgreSQL 15 with auto_explain; the truth is the jsonlog file
parsed with `json`.

Regenerate with ``python -m tests.integration.logs.autoexplain tests/unit/logs/data``: one
session ran the workload once with ``auto_explain.log_format = json``, once with ``text``, then
``orders_customer_id_idx`` was created and the workload ran once more in JSON. The server wrote
each entry to ``server.log`` (stderr, prefix ``%m [%p] %q%u@%d app=%a ``), ``server.csv`` and
``server.json`` at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.logs.autoexplain import WORKLOAD

DATA = Path(__file__).parent / "data"
FILES = {
    "stderr": DATA / "server.log",
    "csvlog": DATA / "server.csv",
    "jsonlog": DATA / "server.json",
}
MARKER = re.compile(r"/\* (pa:\d+) \*/ ")


@dataclass(frozen=True)
class Truth:
    marker: str
    family: str
    duration_ms: float
    query: str  # as logged, marker included
    plan_format: str
    plan_json: dict[str, Any] | None  # the JSON body, for json-format entries


def marker_of(query: str) -> str:
    found = MARKER.search(query)
    assert found is not None, query
    return found.group(1)


def _match(query: str, *, first_line_only: bool = False) -> tuple[str, str]:
    """(family, full statement as sent) of a logged statement.

    Its text without the marker is matched to the workload's statement, parameter as $1.
    """
    bare = MARKER.sub("", query, count=1)
    for family, statement, params in WORKLOAD:
        sent = statement if params is None else statement.replace("%s", "$1")
        if bare == sent or (first_line_only and sent.split("\n")[0] == bare):
            return family, query[: len(query) - len(bare)] + sent
    raise AssertionError(f"statement not from the workload: {query!r}")


def family_of(query: str) -> str:
    """The workload family of a logged statement."""
    return _match(query)[0]


def truth() -> dict[str, Truth]:
    """Every auto_explain entry of the jsonlog file by marker, read with the json module."""
    out: dict[str, Truth] = {}
    for line in FILES["jsonlog"].read_text().splitlines():
        record = json.loads(line)
        message = record["message"]
        head = re.match(r"duration: ([\d.]+) ms  plan:\n", message)
        if head is None:
            continue
        body = message[head.end() :]
        if body.startswith("{"):
            plan = json.loads(body)
            query, plan_format, plan_json = plan["Query Text"], "json", plan
        else:
            # Text format: the statement may span lines; the first one identifies it.
            first = body.split("\n", 1)[0].removeprefix("Query Text: ")
            query = _match(first, first_line_only=True)[1]
            plan_format, plan_json = "text", None
        marker = marker_of(query)
        out[marker] = Truth(
            marker, family_of(query), float(head.group(1)), query, plan_format, plan_json
        )
    return out


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits.

    Sums of the same numbers in another order differ in the last bits, and merging partial
    summaries adds them in another order.
    """
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def comparable(summary: Any) -> dict[str, Any]:
    """A summary's data for comparing engines: engine and partition count left out."""
    data = summary.to_dict(plans=True)
    data.pop("engine")
    data.pop("partitions")
    return _rounded(data)
