"""Text-format EXPLAIN: read it into the JSON shape, and write a plan back as text.

`read_text` turns what ``EXPLAIN`` prints by default (psql's output, auto_explain's log entries,
pasted in any of their usual framings) into statement objects shaped exactly like the elements of
``EXPLAIN (FORMAT JSON)``, so the one JSON path builds the typed tree and every rule, face and the
advisor work on text plans unchanged. `plan_to_text` writes a `Plan` the way PostgreSQL's
explain.c would have printed it. Pure: no I/O.
"""

from __future__ import annotations

from planalyzer.plan.text._detect import is_text_plan
from planalyzer.plan.text._reader import UNRECOGNISED, read_text
from planalyzer.plan.text._writer import plan_to_text

__all__ = ["UNRECOGNISED", "is_text_plan", "plan_to_text", "read_text"]
