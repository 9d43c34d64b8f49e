"""Look at recorded telemetry without a server: one self-contained HTML page, or the terminal.

The embedded default (no collector configured) writes OTLP-JSON files — ``traces.jsonl``
and ``metrics.jsonl`` in ``telemetry_dir()``, with their rotated backups — and an
OpenTelemetry Collector's ``file`` exporter writes the same format. This package reads
them and shows what they hold::

    codomyrmex-perf view                       # the default directory -> codomyrmex-perf-view.html
    codomyrmex-perf view DIR -o page.html --service checkout --since 2h
    codomyrmex-perf view --tree                # the slowest trace as a waterfall in the terminal
    codomyrmex-perf view --tree 3f2a9c         # the trace whose id starts with 3f2a9c

or from Python::

    from codomyrmex.performance.view import read_telemetry, write_page

    telemetry = read_telemetry(Path("telemetry"), service="checkout")
    write_page(telemetry, Path("page.html"))

The page needs nothing at view time — no server, network, CDN, font or script fetched
(its Content-Security-Policy forbids every request) — and opens from disk in any
browser. It shows the services and time range; the slowest traces and those with
errors, each opening its **waterfall** (spans on a shared time axis, nested by parent,
errors in red, a details pane with the attributes and events of the span clicked); per
function the call and error counts, p50/p95/p99 and the latency histogram of
``codomyrmex.function.duration`` in its explicit buckets, whose exemplars open the trace
they were measured in; cache hit rates and evictions over time; lazy imports by duration;
and benchmark runs with their verdicts.

Bad input never hides good data: a truncated last line (an exporter killed mid-write), a
line or a file that is not OTLP-JSON is skipped and listed in
:attr:`Telemetry.problems`, shown at the top of the page. 100,000 spans render the page in
well under two seconds in about 10 MB: the figures use everything read, the waterfalls
embedded are bounded (see :data:`MAX_EMBEDDED_SPANS`) and the trace list is paged.
"""

from __future__ import annotations

import re
from pathlib import Path

from codomyrmex.performance._shared.files import write_text_atomically
from codomyrmex.performance.view._page import MAX_EMBEDDED_SPANS, render_page
from codomyrmex.performance.view._reader import Span, Telemetry, read_telemetry, telemetry_files
from codomyrmex.performance.view._summary import TraceLayout, lay_out_traces
from codomyrmex.performance.view._tree import print_tree

__all__ = [
    "MAX_EMBEDDED_SPANS",
    "Span",
    "Telemetry",
    "TraceLayout",
    "find_trace",
    "parse_since",
    "print_tree",
    "read_telemetry",
    "render_page",
    "telemetry_files",
    "write_page",
]

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The longest duration :func:`parse_since` accepts: a century.
_MAX_SINCE_SECONDS = 100 * 365 * 86400


def parse_since(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``15m``, ``2h``, ``1.5d`` (bare numbers: s).

    ``ValueError`` for anything else, or longer than a century.
    """
    match = _SINCE.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use a number with s, m, h or d: 15m, 2h)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if seconds > _MAX_SINCE_SECONDS:
        raise ValueError(f"longer than a century (at most {_MAX_SINCE_SECONDS // 86400}d)")
    return seconds


def write_page(telemetry: Telemetry, path: Path) -> Path:
    """Write the HTML page of ``telemetry`` to ``path`` atomically; return ``path``."""
    write_text_atomically(path, render_page(telemetry))
    return path


def find_trace(telemetry: Telemetry, trace_id: str | None = None) -> TraceLayout | None:
    """The trace whose id starts with ``trace_id`` (lower-case hex), else the slowest one.

    None when there is no such trace; ``ValueError`` when the prefix matches several.
    """
    layouts = lay_out_traces(telemetry.spans)
    if trace_id is None:
        return max(layouts, key=lambda layout: layout.duration, default=None)
    wanted = trace_id.strip().lower()
    found = [layout for layout in layouts if layout.trace_id.startswith(wanted)]
    if len(found) > 1 and not any(layout.trace_id == wanted for layout in found):
        raise ValueError(f"{len(found)} traces start with {trace_id!r}: give more digits")
    return next(
        (layout for layout in found if layout.trace_id == wanted), found[0] if found else None
    )
