"""`import planalyzer` and the pytest plugin load no database driver, SQL parser or advisor.

Behavioural checks, in fresh interpreters: which modules an import brings in, never how long it
takes (timings are in benchmarks/bench_parse.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer import errors

ROOT = Path(pa.__file__).resolve().parents[1]
HEAVY = ("psycopg", "pglast", "planalyzer.advisor", "planalyzer.live", "networkx")


def _python(code: str, *args: str, cwd: Path | None = None) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin, as -p planalyzer asks
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _loaded(modules: list[str]) -> list[str]:
    return [m for m in HEAVY if any(x == m or x.startswith(m + ".") for x in modules)]


def test_import_planalyzer_loads_no_driver_parser_or_advisor() -> None:
    out = _python("""
        import json, sys
        import planalyzer
        print(json.dumps(sorted(sys.modules)))
    """)
    assert _loaded(json.loads(out)) == []


def test_parse_and_analyze_do_not_load_the_driver_or_the_advisor() -> None:
    out = _python("""
        import json, sys
        import planalyzer as pa
        report = pa.analyze(pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t"}}))
        print(json.dumps(sorted(sys.modules)))
    """)
    loaded = _loaded(json.loads(out))
    assert "psycopg" not in loaded
    assert "planalyzer.advisor" not in loaded
    assert "planalyzer.live" not in loaded


def test_names_load_on_first_use() -> None:
    out = _python("""
        import json, sys
        import planalyzer as pa
        before = "planalyzer.advisor.advise" in sys.modules
        from planalyzer import advise
        print(json.dumps([before, "planalyzer.advisor.advise" in sys.modules,
                          advise.__module__]))
    """)
    assert json.loads(out) == [False, True, "planalyzer.advisor.advise"]


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in pa.__all__:
        value = getattr(pa, name)
        assert getattr(value, "__name__", name) == name
    assert set(pa.__all__) <= set(dir(pa))
    exported_errors = {n for n in pa.__all__ if hasattr(errors, n)}
    assert set(pa.__all__) == set(pa._LAZY) | exported_errors


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = pa.no_such_name
    with pytest.raises(ImportError):
        exec("from planalyzer import no_such_name", {})


def test_pytest_plugin_loads_without_the_library(tmp_path: Path) -> None:
    """A run that uses no planalyzer fixture or marker imports only the plugin's own modules."""
    (tmp_path / "test_plain.py").write_text(
        textwrap.dedent("""
        import json, sys

        def test_plain():
            names = [m for m in sys.modules if m.split(".")[0] in ("planalyzer", "psycopg",
                     "pglast", "pydantic", "networkx")]
            with open("modules.json", "w") as f:
                json.dump(sorted(names), f)
        """)
    )
    _python(
        "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))",
        "-p",
        "planalyzer",
        "-p",
        "no:cacheprovider",
        "-q",
        "test_plain.py",
        cwd=tmp_path,
    )
    modules = json.loads((tmp_path / "modules.json").read_text())
    assert "planalyzer.testing.plugin" in modules  # the plugin did load
    assert _loaded(modules) == []
    assert "pydantic" not in modules
    assert not [m for m in modules if m.startswith(("planalyzer.plan", "planalyzer.rules"))]
