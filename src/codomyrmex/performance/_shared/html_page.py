"""The shell of every HTML page this package writes: one self-contained file.

Styles, scripts and data are inline; the page's Content-Security-Policy forbids every
request (no ``connect-src``, ``font-src``, remote ``img-src`` or ``script-src``), so a page
opened from disk can never fetch anything, even if some text in it looked like a URL.
Data for scripts goes in ``<script type="application/json">`` blocks
(:func:`json_block`), escaped so that no value can close the block.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "json_block", "page"]

#: Nothing from the network; inline styles and scripts and ``data:`` images only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

_STYLE = """
:root { color-scheme: light; --fg: #1d2330; --muted: #5f6b7a; --line: #d9dee5;
  --bg: #ffffff; --panel: #f5f7fa; --accent: #2f6fd0; --bad: #c62828; --good: #2e7d32;
  --warn: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header.top { padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--panel); }
header.top h1 { margin: 0 0 4px; font-size: 20px; }
main { padding: 8px 24px 40px; max-width: 1280px; }
section { margin-top: 22px; }
h2 { font-size: 17px; margin: 0 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; background: var(--panel); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.problems { border-left: 4px solid var(--warn); background: #fff8e6; padding: 6px 12px;
  margin-top: 12px; }
.problems li { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card h3 { margin-top: 0; word-break: break-all; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart.intervals { max-width: 760px; }
svg .axis { fill: var(--muted); }
svg .label { fill: var(--fg); }
.c-bar { fill: #5b8def; }
.c-bar-error { fill: var(--bad); }
.c-axis { stroke: var(--line); }
.c-exemplar { fill: #f5a623; stroke: #8a5a00; cursor: pointer; }
.c-reference { stroke: var(--fg); stroke-dasharray: 2 2; }
.c-threshold { stroke: var(--bad); stroke-dasharray: 4 3; }
.c-line, .c-dot-line { stroke: #2f6fd0; stroke-width: 1.6; }
.c-dot-line { fill: #2f6fd0; }
.c-band-line { fill: #2f6fd0; opacity: 0.15; }
.c-evictions, .c-dot-evictions { stroke: var(--bad); stroke-width: 1.6; }
.c-dot-evictions { fill: var(--bad); }
.c-regression { stroke: var(--bad); fill: var(--bad); }
.c-improvement { stroke: var(--good); fill: var(--good); }
.c-no_change { stroke: #607d8b; fill: #607d8b; }
.c-inconclusive { stroke: var(--warn); fill: var(--warn); }
.verdict { font-weight: 600; white-space: nowrap; }
.verdict.regression, .error-text { color: var(--bad); }
.verdict.improvement { color: var(--good); }
.verdict.no_change { color: #607d8b; }
.verdict.inconclusive { color: var(--warn); }
.meter { background: var(--panel); height: 10px; border-radius: 3px; min-width: 120px; }
.meter > span { display: block; height: 10px; border-radius: 3px; background: #5b8def; }
"""


def page(title: str, body: str, *, style: str = "", script: str = "") -> str:
    """A complete HTML document: ``body`` (HTML) with the shared styles plus ``style``."""
    scripts = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{_STYLE}{style}</style></head>"
        f"<body>{body}{scripts}</body></html>\n"
    )


def json_block(element_id: str, data: Any) -> str:
    """``data`` as a JSON ``<script>`` block that scripts read with ``JSON.parse``.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no string in ``data``
    (a span name such as ``</script>``) can end the block early.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'
