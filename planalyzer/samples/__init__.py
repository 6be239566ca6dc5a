"""Sample plans and the demo schema, shipped inside the package (read with importlib.resources).

They make `planalyzer demo` and the README's first lines work from an installed wheel, in any
directory. Each sample plan is a copy of a real fixture plan (``SOURCES`` names it; a unit test
keeps the copies identical to the fixtures).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["SOURCES", "demo_schema_sql", "sample_names", "sample_path"]

SOURCES: dict[str, str] = {
    "nested-loop-blowup": "fixtures/plans/nested-loop-blowup/fires--underestimated-outer.json",
    "sort-spill": "fixtures/plans/sort-spill/fires--external-merge.json",
    "seq-scan": "fixtures/plans/seq-scan/fires--filter-removes-most.json",
}
"""Sample name → the fixture (repository path) it copies."""


def sample_names() -> list[str]:
    """The names `sample_path` accepts."""
    return list(SOURCES)


def sample_path(name: str) -> Path:
    """The file of a bundled sample plan (``"seq-scan"``, ``"sort-spill"``, ...).

    Raises:
        KeyError: ``name`` is not a sample; the message lists the names there are.

    Example:
        >>> sample_path("seq-scan").name
        'seq-scan.json'
    """
    if name not in SOURCES:
        raise KeyError(f"no sample plan {name!r}; the samples are: {', '.join(SOURCES)}")
    return Path(str(files(__name__) / "plans" / f"{name}.json"))


def demo_schema_sql() -> str:
    """The demo shop's schema script (deterministic data; see fixtures/demo/README.md)."""
    return (files(__name__) / "demo_schema.sql").read_text(encoding="utf-8")
