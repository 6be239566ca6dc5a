"""The notebook style sheet: one ``<style>`` block, every selector under ``div.pa-view``.

Scoped so it cannot restyle the rest of a notebook, and self-contained (no fonts or images
loaded from anywhere), so the views render the same in JupyterLab, VS Code, nbviewer and a
saved HTML file. Three things make it hold up inside JupyterLab:

- selectors start with ``div.pa-view`` (one type selector more than JupyterLab's
  ``.jp-RenderedHTMLCommon td``), and the properties JupyterLab sets on every table cell and
  link (centred ``table-layout: fixed`` tables, zebra rows, cell padding) are set here
  explicitly, so its rules never win inside a view. Its ``text-align: right`` on cells comes
  with a ``:not(.jp-RenderedMarkdown)`` that out-ranks any plain scoped selector, so cell
  alignment alone is ``!important``;
- colours are CSS variables with a light and a dark set: JupyterLab's own theme variables
  (``--jp-layout-color0``, ``--jp-content-font-color1``) when the page defines them, else ours;
  the dark set follows ``prefers-color-scheme`` and JupyterLab's ``data-jp-theme-light``;
- figures never wrap (``white-space: nowrap``), SQL wraps only between words, and wide tables
  and code scroll inside their own box instead of widening the page.

`PALETTE` is the single source of the colours; a unit test computes the WCAG contrast of every
text/background pair it uses (`TEXT_PAIRS`) in both themes.
"""

from __future__ import annotations

__all__ = ["HEAT_COLOURS", "HEAT_TEXT", "PALETTE", "STYLE", "TEXT_PAIRS"]

HEAT_COLOURS: tuple[str, ...] = ("#e6e8eb", "#fdf2c4", "#fcd977", "#f9a35b", "#c62828")
"""Background of heat levels 0..4 (see `planalyzer.display.theme.HEAT_BANDS`); the same in both
themes, with `HEAT_TEXT` on top, so a percentage reads the same everywhere."""

HEAT_TEXT: tuple[str, ...] = ("#1c2024", "#1c2024", "#1c2024", "#1c2024", "#ffffff")

PALETTE: dict[str, dict[str, str]] = {
    "light": {
        "bg": "#ffffff",
        "fg": "#1c2024",
        "muted": "#595d65",
        "panel": "#f3f4f6",
        "line": "#d9dce0",
        "link": "#1a5fb4",
        "good": "#17704a",
        "bad": "#b42318",
        "critical-fg": "#a8231a",
        "critical-bg": "#fdecea",
        "warning-fg": "#7a4700",
        "warning-bg": "#fff6df",
        "info-fg": "#1655c0",
        "info-bg": "#edf3ff",
        "est-fg": "#6433b8",
        "est-bg": "#f4effe",
        "mark-bg": "#fff3bf",
    },
    "dark": {
        "bg": "#111111",
        "fg": "#e6e7e9",
        "muted": "#a6aab2",
        "panel": "#1d1f23",
        "line": "#3b3e44",
        "link": "#8fb8ff",
        "good": "#62d296",
        "bad": "#ff8f85",
        "critical-fg": "#ffb3ab",
        "critical-bg": "#3a1411",
        "warning-fg": "#ffd27a",
        "warning-bg": "#302408",
        "info-fg": "#a3c7ff",
        "info-bg": "#10223f",
        "est-fg": "#d2bcff",
        "est-bg": "#24173c",
        "mark-bg": "#3d3410",
    },
}
"""Our colours per theme. In JupyterLab the page background and main text come from its
theme variables instead (``--jp-layout-color0`` and ``--jp-content-font-color1``)."""

TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    ("fg", "bg"),
    ("muted", "bg"),
    ("fg", "panel"),
    ("muted", "panel"),
    ("link", "bg"),
    ("link", "panel"),
    ("good", "bg"),
    ("bad", "bg"),
    ("critical-fg", "critical-bg"),
    ("warning-fg", "warning-bg"),
    ("info-fg", "info-bg"),
    ("est-fg", "est-bg"),
    ("muted", "panel"),
    ("fg", "mark-bg"),
    ("link", "mark-bg"),
    ("critical-fg", "bg"),
    ("warning-fg", "bg"),
    ("info-fg", "bg"),
)
"""(text colour, background) pairs the style sheet puts together; each must reach 4.5:1."""

_V = "div.pa-view"


def _variables(theme: str) -> str:
    colours = PALETTE[theme]
    own = " ".join(f"--pa-{name}: {value};" for name, value in colours.items())
    # JupyterLab's variables win when the page defines them (a notebook), ours otherwise.
    return (
        f"{own} --pa-page: var(--jp-layout-color0, {colours['bg']}); "
        f"--pa-text: var(--jp-content-font-color1, {colours['fg']});"
    )


_HEAT_RULES = "\n".join(
    f"{_V} .pa-share.pa-heat-{level} {{ background: {colour}; color: {HEAT_TEXT[level]}; }}\n"
    f"{_V} .pa-heat-{level} > summary {{ border-left-color: {colour}; }}"
    for level, colour in enumerate(HEAT_COLOURS)
)

STYLE = (
    f"""
{_V} {{ {_variables("light")} }}
@media (prefers-color-scheme: dark) {{ {_V} {{ {_variables("dark")} }} }}
[data-jp-theme-light="true"] {_V} {{ {_variables("light")} }}
[data-jp-theme-light="false"] {_V} {{ {_variables("dark")} }}
{_V} {{ font: 13px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--pa-text); background: var(--pa-page); padding: 8px 10px;
  border: 1px solid var(--pa-line); border-radius: 6px; max-width: 100%; box-sizing: border-box;
  overflow-x: auto; text-align: left; }}
{_V} * {{ box-sizing: border-box; }}
{_V} code, {_V} .pa-mono, {_V} pre {{ font-family: "SFMono-Regular", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 12px; color: var(--pa-text); background: none;
  padding: 0; }}
{_V} a, {_V} a:link, {_V} a:visited {{ color: var(--pa-link); text-decoration: none; }}
{_V} a:hover, {_V} a:focus {{ text-decoration: underline; }}
{_V} :target > summary, {_V} .pa-finding:target {{ background: var(--pa-mark-bg); }}
{_V} .pa-head {{ font-weight: 600; margin: 0 0 4px; }}
{_V} .pa-sub {{ color: var(--pa-muted); margin: 0 0 8px; }}
{_V} .pa-legend {{ color: var(--pa-muted); font-size: 11px; margin: 6px 0 0; }}
{_V} .pa-legend .pa-share {{ min-width: 0; }}
{_V} details {{ margin: 0; }}
{_V} details > summary {{ list-style: none; cursor: pointer; padding: 2px 4px;
  border-left: 5px solid var(--pa-line); border-radius: 3px; }}
{_V} details > summary::-webkit-details-marker {{ display: none; }}
{_V} details > summary::before {{ content: "▾"; color: var(--pa-muted); display: inline-block;
  width: 1em; }}
{_V} details:not([open]) > summary::before {{ content: "▸"; }}
{_V} details.pa-leaf > summary::before {{ content: "•"; }}
{_V} summary:hover {{ background: var(--pa-panel); }}
{_V} .pa-kids {{ margin-left: 14px; padding-left: 10px; border-left: 1px dotted var(--pa-line); }}
{_V} .pa-body {{ margin: 0 0 2px 26px; }}
{_V} .pa-detail {{ white-space: pre-wrap; overflow-wrap: break-word; }}
{_V} .pa-k {{ color: var(--pa-muted); }}
{_V} .pa-share {{ display: inline-block; min-width: 3.3em; text-align: right;
  padding: 0 4px; margin-right: 6px; border-radius: 3px; font-variant-numeric: tabular-nums;
  font-weight: 600; white-space: nowrap; }}
{_V} .pa-id {{ color: var(--pa-muted); font-variant-numeric: tabular-nums; margin-right: 4px;
  white-space: nowrap; }}
{_V} .pa-name {{ font-weight: 600; }}
{_V} .pa-fig {{ margin-left: 10px; font-variant-numeric: tabular-nums; white-space: nowrap; }}
{_V} .pa-fig .pa-k {{ margin-right: 3px; }}
{_V} .pa-badge {{ display: inline-block; font-size: 11px; font-weight: 600; padding: 0 6px;
  margin-left: 6px; border-radius: 9px; border: 1px solid; white-space: nowrap; }}
{_V} .pa-badge a {{ color: inherit; }}
{_V} .pa-sev-critical {{ color: var(--pa-critical-fg); background: var(--pa-critical-bg); }}
{_V} .pa-sev-warning {{ color: var(--pa-warning-fg); background: var(--pa-warning-bg); }}
{_V} .pa-sev-info {{ color: var(--pa-info-fg); background: var(--pa-info-bg); }}
{_V} .pa-est {{ color: var(--pa-est-fg); background: var(--pa-est-bg); }}
{_V} .pa-role {{ color: var(--pa-info-fg); background: var(--pa-info-bg); }}
{_V} .pa-never {{ color: var(--pa-muted); background: var(--pa-panel); }}
{_V} .pa-finding {{ margin: 4px 0; padding: 4px 8px; border: 0; border-left: 3px solid;
  border-radius: 3px; font-size: 12px; }}
{_V} .pa-finding .pa-msg, {_V} .pa-finding .pa-suggest {{ color: var(--pa-text); }}
{_V} .pa-finding .pa-evidence {{ margin: 2px 0 0 12px; padding: 0; color: var(--pa-text); }}
{_V} .pa-warnings {{ margin: 0 0 8px; padding: 4px 8px; border-left: 3px solid;
  color: var(--pa-warning-fg); background: var(--pa-warning-bg); }}
{_V} .pa-hot {{ margin: 0 0 8px; padding: 0; list-style: none; }}
{_V} .pa-hot li {{ margin: 1px 0; }}
{_V} .pa-scroll {{ max-width: 100%; overflow-x: auto; }}
{_V} table {{ border-collapse: collapse; margin: 4px 0 8px; table-layout: auto; width: auto;
  border: 0; font-size: 12px; }}
{_V} tr, {_V} tbody tr:nth-child(odd), {_V} tbody tr:nth-child(even) {{ background: none; }}
{_V} th, {_V} td {{ text-align: left !important; vertical-align: top; padding: 3px 8px;
  line-height: 1.4; max-width: none; white-space: normal; border: 0;
  border-bottom: 1px solid var(--pa-line); color: var(--pa-text); }}
{_V} th {{ font-weight: 600; color: var(--pa-muted); }}
{_V} td.pa-num, {_V} th.pa-num {{ text-align: right !important; font-variant-numeric: tabular-nums;
  white-space: nowrap; }}
{_V} td code, {_V} .pa-sql {{ white-space: pre-wrap; word-break: normal;
  overflow-wrap: normal; }}
{_V} .pa-side td {{ white-space: nowrap; }}
{_V} .pa-good {{ color: var(--pa-good); font-weight: 600; }}
{_V} .pa-bad {{ color: var(--pa-bad); font-weight: 600; }}
{_V} .pa-gone {{ text-decoration: line-through; color: var(--pa-muted); }}
{_V} .pa-note {{ color: var(--pa-muted); font-style: italic; margin: 4px 0; }}
{_V} .pa-section {{ margin-top: 10px; }}
{_V} .pa-section > summary {{ font-weight: 600; border-left: 0; }}
{_V} pre {{ background: var(--pa-panel); padding: 6px 8px; border-radius: 4px; overflow-x: auto;
  white-space: pre-wrap; word-break: normal; overflow-wrap: normal; margin: 4px 0; }}
"""
    + _HEAT_RULES
    + "\n"
)
