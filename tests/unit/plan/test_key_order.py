"""``to_json()`` gives the keys back in the order they were read, not only the same values.

Compared as printed JSON (``json.dumps`` keeps dict order), so a key moved anywhere fails.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import planalyzer as pa
from planalyzer.testing.strategies import GeneratedPlan, plan_documents
from tests.unit.plan.builders import CORPUS

# PostgreSQL's statement-level order: Triggers and Settings come after Planning Time, and
# Execution Time last; Plans in the middle of a node, after it an unknown key.
STATEMENT = """[
  {
    "Plan": {
      "Node Type": "Hash Join",
      "Parallel Aware": false,
      "Join Type": "Inner",
      "Startup Cost": 1.5,
      "Total Cost": 12,
      "Plans": [
        {"Node Type": "Seq Scan", "Some Future Key": [1, {"b": 2, "a": 1}],
         "Relation Name": "t", "Alias": "t", "Plan Rows": 10, "Plans": []},
        {"Node Type": "Hash", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "u"}],
         "Hash Buckets": 1024}
      ],
      "Hash Cond": "(t.id = u.id)"
    },
    "Planning": {"Shared Hit Blocks": 3},
    "Planning Time": 0.2,
    "Triggers": [{"Trigger Name": "trg", "Relation": "t", "Time": 1.5, "Calls": 1}],
    "Settings": {"work_mem": "64MB"},
    "Execution Time": 3.25
  }
]"""


def _printed(value: Any) -> str:
    return json.dumps(value, indent=1)


def test_statement_and_node_keys_keep_their_order() -> None:
    plan = pa.parse(STATEMENT)
    assert _printed(plan.to_json()) == _printed(json.loads(STATEMENT))
    keys = list(plan.to_json()[0])
    assert keys.index("Triggers") > keys.index("Planning Time")
    assert keys[-1] == "Execution Time"


def test_order_survives_pickle_and_a_second_parse() -> None:
    plan = pa.parse(STATEMENT)
    again = pickle.loads(pickle.dumps(plan))
    assert _printed(again.to_json()) == _printed(json.loads(STATEMENT))
    assert _printed(pa.parse(plan.to_json()).to_json()) == _printed(json.loads(STATEMENT))


def test_order_kept_for_a_coerced_value() -> None:
    # "Hash Buckets" as a string goes through pydantic's coercion; the rest is unchanged
    doc = json.loads(STATEMENT)
    doc[0]["Plan"]["Plans"][1]["Hash Buckets"] = "1024"
    plan = pa.parse(doc)
    assert plan.node(2).hash_buckets == 1024
    assert _printed(plan.to_json()) == _printed(doc)


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in sorted(CORPUS.glob("**/*.json"))],
)
def test_corpus_plans_print_back_identically(path: Path) -> None:
    document = json.loads(path.read_bytes())
    plans = pa.parse_all(document)
    if len(plans) == 1:
        assert _printed(plans[0].to_json()) == _printed(document)
    else:
        for plan, statement in zip(plans, document, strict=True):
            assert _printed(plan.to_json()) == _printed([statement])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_documents())
def test_random_plans_print_back_identically(generated: GeneratedPlan) -> None:
    text = json.dumps(generated.document, indent=2)
    assert json.dumps(pa.parse(text).to_json(), indent=2) == text
