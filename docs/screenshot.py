"""Regenerate docs/plan.png: the notebook view of a real fixture plan, shot by headless Chromium.

Run from the repository root (needs the Debian package ``chromium``):

    python docs/screenshot.py
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import planalyzer as pa

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "fixtures" / "plans" / "nested-loop-blowup" / "fires--underestimated-outer.json"


def main() -> None:
    report = pa.analyze(pa.load(PLAN))
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>planalyzer</title>'
        f'</head><body style="margin: 16px; background: #fff">{report._repr_html_()}</body></html>'
    )
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as scratch:
        html = Path(scratch) / "plan.html"
        html.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={scratch}/profile",
                f"--screenshot={ROOT / 'docs' / 'plan.png'}", "--window-size=1200,760",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip
    print(f"wrote {ROOT / 'docs' / 'plan.png'}")


if __name__ == "__main__":
    main()
