"""The public names DESIGN.md promises, and submodules importable by their dotted path."""

from __future__ import annotations

import importlib
import pkgutil

import planalyzer as pa


def test_public_api_names_exist() -> None:
    for name in (
        "parse", "parse_all", "load", "analyze", "compare", "explain", "catalog",
        "hypothetical", "advise", "audit", "Plan", "PlanNode", "Report", "Finding", "Severity",
        "RuleConfig", "Advice", "PlanDiff", "PlanalyzerError", "PlanParseError",
    ):  # fmt: skip
        assert name in pa.__all__, name
        assert getattr(pa, name) is not None


def test_no_public_function_shadows_a_subpackage() -> None:
    """A function re-exported at the top must not hide a subpackage of the same name.

    ``pa.advise`` once hid the ``planalyzer.advise`` package, which broke
    ``import planalyzer.advise.candidates as m`` and ``mock.patch`` paths through it.
    """
    for info in pkgutil.iter_modules(pa.__path__, prefix="planalyzer."):
        module = importlib.import_module(info.name)
        assert getattr(pa, info.name.rpartition(".")[2]) is module, info.name
