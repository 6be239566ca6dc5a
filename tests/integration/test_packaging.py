"""The built wheel and sdist: what they carry, and the installed CLI working outside the checkout.

The wheel is installed into a fresh virtualenv that sees this environment's packages
(``--system-site-packages``) so no download is needed; the test checks that ``planalyzer`` is
imported from the venv's copy, never from the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def venv_python(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, system_site_packages=True, with_pip=True)
    python = home / "bin" / "python"
    (wheel,) = dist.glob("planalyzer-*.whl")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", str(wheel)],
        check=True,
        capture_output=True,
    )
    return python


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONSAFEPATH"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip


def test_wheel_carries_the_samples_the_licence_and_no_test_only_dependency(dist: Path) -> None:
    (wheel,) = dist.glob("planalyzer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "planalyzer/samples/demo_schema.sql" in names
    assert "planalyzer/samples/plans/seq-scan.json" in names
    assert "planalyzer/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    unconditional = [r for r in requires if "extra ==" not in r]
    assert not [r for r in unconditional if r.startswith(("pytest", "hypothesis"))], requires
    assert any(r.startswith("hypothesis") and 'extra == "testing"' in r for r in requires)


def test_sdist_carries_sources_and_tests(dist: Path) -> None:
    (sdist,) = dist.glob("planalyzer-*.tar.gz")
    names = tarfile.open(sdist).getnames()
    assert any(n.endswith("planalyzer/samples/plans/sort-spill.json") for n in names)
    assert any(n.endswith("/LICENSE") for n in names)


def test_installed_cli_runs_outside_the_checkout(venv_python: Path, tmp_path: Path) -> None:
    where = _run(venv_python, "-c", "import planalyzer; print(planalyzer.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv_python.parent.parent), where.stdout

    helped = _run(venv_python, "-m", "planalyzer", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "analyze" in helped.stdout

    sample = _run(
        venv_python, "-c", "import planalyzer as pa; print(pa.sample_path('seq-scan'))",
        cwd=tmp_path,
    )  # fmt: skip
    assert sample.returncode == 0, sample.stderr
    analysed = _run(venv_python, "-m", "planalyzer", "analyze", sample.stdout.strip(), "--json",
                    cwd=tmp_path)  # fmt: skip
    assert analysed.returncode in (0, 1), analysed.stderr  # 1: findings at --fail-on
    report = json.loads(analysed.stdout)
    findings = [f for statement in report["statements"] for f in statement["findings"]]
    assert any(f["rule"] == "seq-scan" for f in findings)

    demo = _run(venv_python, "-m", "planalyzer", "demo", "--offline", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "sample 'seq-scan'" in demo.stdout
