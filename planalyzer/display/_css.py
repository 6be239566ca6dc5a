"""The notebook style sheet: one ``<style>`` block, every selector under ``.pa-view``.

Scoped so it cannot restyle the rest of a notebook, and self-contained (no fonts or images
loaded from anywhere), so the views render the same in JupyterLab, VS Code, nbviewer and a
saved HTML file. Colours are set explicitly, background included, so a dark notebook theme
does not turn the heat scale unreadable.
"""

from __future__ import annotations

__all__ = ["HEAT_COLOURS", "STYLE"]

HEAT_COLOURS: tuple[str, ...] = ("#eef0f3", "#fdf2c4", "#fcd977", "#f9a35b", "#e5484d")
"""Background of heat levels 0..4 (see `planalyzer.display.theme.HEAT_BANDS`)."""

_HEAT_RULES = "\n".join(
    f".pa-view .pa-heat-{level} > summary .pa-share, .pa-view .pa-share.pa-heat-{level} "
    f"{{ background: {colour};{' color: #fff;' if level == 4 else ''} }}\n"
    f".pa-view .pa-heat-{level} > summary {{ border-left-color: {colour}; }}"
    for level, colour in enumerate(HEAT_COLOURS)
)

STYLE = (
    """
.pa-view { font: 13px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: #1c2024; background: #fff; padding: 8px 10px; border: 1px solid #d9dce0;
  border-radius: 6px; max-width: 100%; overflow-x: auto; }
.pa-view code, .pa-view .pa-mono { font-family: "SFMono-Regular", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 12px; }
.pa-view .pa-head { font-weight: 600; margin: 0 0 4px; }
.pa-view .pa-sub { color: #60646c; margin: 0 0 8px; }
.pa-view .pa-legend { color: #60646c; font-size: 11px; margin: 6px 0 0; }
.pa-view .pa-legend .pa-share { display: inline-block; min-width: 0; }
.pa-view details { margin: 0; }
.pa-view details > summary { list-style: none; cursor: pointer; padding: 2px 4px;
  border-left: 5px solid #eef0f3; border-radius: 3px; }
.pa-view details > summary::-webkit-details-marker { display: none; }
.pa-view details > summary::before { content: "▾"; color: #8b8d98; display: inline-block;
  width: 1em; }
.pa-view details:not([open]) > summary::before { content: "▸"; }
.pa-view details.pa-leaf > summary::before { content: "•"; }
.pa-view summary:hover { background: #f5f6f8; }
.pa-view .pa-kids { margin-left: 14px; padding-left: 10px; border-left: 1px dotted #c4c7cc; }
.pa-view .pa-body { margin: 0 0 2px 26px; }
.pa-view .pa-detail { color: #3d4047; white-space: pre-wrap; word-break: break-word; }
.pa-view .pa-k { color: #80838d; }
.pa-view .pa-share { display: inline-block; min-width: 3.3em; text-align: right;
  padding: 0 4px; margin-right: 6px; border-radius: 3px; font-variant-numeric: tabular-nums;
  font-weight: 600; }
.pa-view .pa-id { color: #80838d; font-variant-numeric: tabular-nums; margin-right: 4px; }
.pa-view .pa-name { font-weight: 600; }
.pa-view .pa-fig { color: #3d4047; margin-left: 10px; font-variant-numeric: tabular-nums; }
.pa-view .pa-badge { display: inline-block; font-size: 11px; font-weight: 600;
  padding: 0 6px; margin-left: 6px; border-radius: 9px; border: 1px solid; }
.pa-view .pa-sev-critical { color: #b42318; border-color: #f3b0a9; background: #fef0ee; }
.pa-view .pa-sev-warning { color: #8a5200; border-color: #f1c97a; background: #fff8e6; }
.pa-view .pa-sev-info { color: #175cd3; border-color: #b2ccf5; background: #eff5ff; }
.pa-view .pa-est { color: #6e3fc2; border-color: #cdb8f0; background: #f6f1ff; }
.pa-view .pa-never { color: #80838d; border-color: #d9dce0; background: #f5f6f8; }
.pa-view .pa-finding { margin: 3px 0; padding: 3px 8px; border-left: 3px solid; font-size: 12px;
  border-radius: 3px; border-top: 0; border-right: 0; border-bottom: 0; }
.pa-view .pa-finding .pa-msg { color: #1c2024; }
.pa-view .pa-finding .pa-suggest { color: #3d4047; }
.pa-view table { border-collapse: collapse; margin: 4px 0 8px; }
.pa-view th { text-align: left; font-weight: 600; color: #60646c; border-bottom: 1px solid
  #d9dce0; padding: 3px 8px; }
.pa-view td { border-bottom: 1px solid #eef0f3; padding: 3px 8px; vertical-align: top; }
.pa-view td.pa-num, .pa-view th.pa-num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.pa-view .pa-good { color: #18794e; font-weight: 600; }
.pa-view .pa-bad { color: #b42318; font-weight: 600; }
.pa-view .pa-gone { text-decoration: line-through; color: #80838d; }
.pa-view .pa-note { color: #60646c; font-style: italic; margin: 4px 0; }
.pa-view .pa-section { margin-top: 10px; }
.pa-view .pa-section > summary { font-weight: 600; border-left: 0; }
.pa-view pre { background: #f5f6f8; padding: 6px 8px; border-radius: 4px; overflow-x: auto;
  white-space: pre-wrap; }
"""
    + _HEAT_RULES
    + "\n"
)
