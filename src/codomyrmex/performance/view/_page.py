"""The HTML page of ``codomyrmex-perf view``: an index rendered here, waterfalls in the browser.

The index (services, the slowest traces and those with errors, functions, caches, imports,
benchmark runs) is plain HTML and inline SVG, readable before any script runs. Traces go
in one compact JSON block (strings and attribute sets interned, every text pre-formatted)
from which the page's script draws a waterfall when a trace link is followed
(``#trace=<id>&span=<id>``, also the exemplar links) and pages through the trace list.

Large inputs: every figure uses all the data read; the spans embedded for waterfalls are
bounded by :data:`MAX_EMBEDDED_SPANS` — beyond it the slowest traces, those with errors
and those linked from exemplars are kept first, then the newest, and the page says how
many traces were left out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from html import escape
from importlib import resources
from typing import Any

from codomyrmex.performance._shared.charts import (
    Bar,
    Interval,
    Marker,
    Series,
    bar_chart,
    interval_chart,
    line_chart,
)
from codomyrmex.performance._shared.html_page import json_block, page
from codomyrmex.performance._shared.units import count_of, format_seconds
from codomyrmex.performance.view._reader import Exemplar, Span, Telemetry, paused_gc
from codomyrmex.performance.view._summary import (
    BenchmarkRun,
    CacheRow,
    FunctionRow,
    ImportRow,
    TraceLayout,
    benchmark_runs,
    cache_rows,
    function_rows,
    import_rows,
    lay_out_traces,
)

__all__ = ["MAX_EMBEDDED_SPANS", "TRACES_LISTED", "render_page"]

#: Spans embedded for waterfalls (about 80 bytes each in the page).
MAX_EMBEDDED_SPANS = 200_000
#: Rows of the "slowest traces" and "traces with errors" tables.
TRACES_LISTED = 15
_VALUE_CHARS = 4000

_STYLE = """
#trace-view { padding-top: 6px; }
.wf-row, .wf-axis { display: grid; grid-template-columns: minmax(220px, 34%) 1fr 88px;
  align-items: center; border-bottom: 1px solid #eef1f4; min-height: 22px; cursor: pointer; }
.wf-axis { cursor: default; font-weight: 600; background: var(--panel); position: sticky;
  top: 0; z-index: 1; }
.wf-row:hover { background: #f0f5ff; }
.wf-row.selected { background: #e2ecff; }
.wf-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 12.5px;
  font-family: ui-monospace, Menlo, Consolas, monospace; direction: rtl; text-align: left; }
.wf-name > bdi { direction: ltr; unicode-bidi: isolate; }
.wf-lane { position: relative; height: 14px; margin: 0 8px; }
.wf-ticks span { position: absolute; font-size: 11px; color: var(--muted); white-space: nowrap; }
.wf-ticks span:last-child { transform: translateX(-100%); }
.wf-bar { position: absolute; top: 2px; height: 10px; min-width: 1px; background: #5b8def;
  border-radius: 2px; }
.wf-row.error .wf-bar { background: var(--bad); }
.wf-row.error .wf-name { color: var(--bad); }
.wf-dur { text-align: right; font-variant-numeric: tabular-nums; font-size: 12.5px;
  padding-right: 6px; }
#waterfall-more { margin: 8px 0; }
.trace-layout { display: grid; grid-template-columns: 1fr 360px; gap: 16px; }
#span-details { border-left: 1px solid var(--line); padding-left: 12px; font-size: 13px;
  word-break: break-word; position: sticky; top: 0; align-self: start; max-height: 100vh;
  overflow: auto; }
#span-details th { width: 36%; background: none; position: static; }
#span-details pre { white-space: pre-wrap; margin: 2px 0; }
@media (max-width: 900px) { .trace-layout { grid-template-columns: 1fr; } }
.pager { margin: 6px 0; }
.stats { font-variant-numeric: tabular-nums; }
"""


def render_page(telemetry: Telemetry, *, title: str = "codomyrmex-perf view") -> str:
    """The whole page for ``telemetry`` as one HTML string."""
    with paused_gc():
        return _render(telemetry, title)


def _render(telemetry: Telemetry, title: str) -> str:
    layouts = lay_out_traces(telemetry.spans)
    functions = function_rows(telemetry.histograms)
    exemplar_traces = {e.trace_id for row in functions for e in row.exemplars}
    slowest = sorted(layouts, key=lambda layout: layout.duration, reverse=True)[:TRACES_LISTED]
    failing = [layout for layout in layouts if layout.errors][:TRACES_LISTED]
    runs = benchmark_runs(telemetry.spans)
    keep_first = {layout.trace_id for layout in (*slowest, *failing)} | exemplar_traces
    keep_first.update(run.span.trace_id for run in runs)
    embedded = _embedded(layouts, keep_first)
    body = [
        _header(telemetry, layouts, len(embedded)),
        '<main><div id="index">',
        _traces_section(slowest, failing, len(layouts), len(embedded)),
        _functions_section(functions),
        _caches_section(cache_rows(telemetry.points)),
        _imports_section(import_rows(telemetry.histograms)),
        _benchmarks_section(runs),
        "</div>",
        _trace_view(),
        "</main>",
        json_block("view-data", _page_data(embedded, functions)),
    ]
    script = resources.files(__package__).joinpath("page.js").read_text(encoding="utf-8")
    return page(title, "".join(body), style=_STYLE, script=script)


def _embedded(layouts: list[TraceLayout], keep_first: set[str]) -> list[TraceLayout]:
    """The traces whose spans go in the page, newest first, within the span budget."""
    if sum(len(layout.rows) for layout in layouts) <= MAX_EMBEDDED_SPANS:
        return layouts
    chosen: set[str] = set()
    budget = MAX_EMBEDDED_SPANS
    ordered = [x for x in layouts if x.trace_id in keep_first]
    ordered += [x for x in layouts if x.trace_id not in keep_first]
    for layout in ordered:
        if len(layout.rows) <= budget:
            chosen.add(layout.trace_id)
            budget -= len(layout.rows)
    return [layout for layout in layouts if layout.trace_id in chosen]


def _when(ns: int) -> str:
    moment = datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(ns: float) -> str:
    return format_seconds(ns / 1e9)


def _header(telemetry: Telemetry, layouts: list[TraceLayout], embedded: int) -> str:
    spans = sum(len(layout.rows) for layout in layouts)
    starts = [layout.start for layout in layouts] + [h.time for h in telemetry.histograms]
    ends = [layout.end for layout in layouts] + [p.time for p in telemetry.points]
    span_of_time = f"{_when(min(starts))} — {_when(max(ends))}" if starts and ends else "—"
    services = ", ".join(telemetry.services) or "none"
    facts = (
        f"<p><strong>services</strong> {escape(services)} · <strong>time</strong> "
        f"{escape(span_of_time)}</p><p class=muted>{count_of(len(layouts), 'trace')}, "
        f"{count_of(spans, 'span')}, {len(telemetry.histograms)} histogram and "
        f"{count_of(len({p.stream for p in telemetry.points}), 'sum/gauge stream')} from "
        f"{count_of(len(telemetry.files), 'file')} in "
        f"<code>{escape(str(telemetry.source))}</code></p>"
    )
    notes = []
    if embedded < len(layouts):
        notes.append(
            f"{len(layouts) - embedded} of {len(layouts)} traces are listed and counted but "
            f"have no waterfall here (more than {MAX_EMBEDDED_SPANS} spans): the slowest, "
            "those with errors and those linked from the charts are kept, then the newest."
        )
    notes.extend(telemetry.problems)
    problems = ""
    if notes:
        items = "".join(f"<li>{escape(note)}</li>" for note in notes)
        problems = f'<div class="problems" id="problems"><ul>{items}</ul></div>'
    return f'<header class="top"><h1>codomyrmex-perf view</h1>{facts}{problems}</header>'


def _trace_link(trace_id: str, span_id: str | None, text: str) -> str:
    href = f"#trace={trace_id}" + (f"&span={span_id}" if span_id else "")
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _trace_table(layouts: Sequence[TraceLayout], table_id: str) -> str:
    rows = []
    for layout in layouts:
        rows.append(
            f'<tr data-trace="{layout.trace_id}"><td>'
            f"{_trace_link(layout.trace_id, None, layout.root.name)}</td>"
            f"<td>{escape(', '.join(layout.services))}</td><td>{_when(layout.start)}</td>"
            f'<td class="num">{_seconds(layout.duration)}</td>'
            f'<td class="num">{len(layout.rows)}</td>'
            f'<td class="num{" error-text" if layout.errors else ""}">{layout.errors}</td></tr>'
        )
    return (
        f'<table id="{table_id}"><thead><tr><th>trace (root span)</th><th>service</th>'
        '<th>started</th><th class="num">duration</th><th class="num">spans</th>'
        f'<th class="num">errors</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _traces_section(
    slowest: list[TraceLayout], failing: list[TraceLayout], total: int, embedded: int
) -> str:
    if not total:
        return '<section id="traces"><h2>Traces</h2><p class=muted>No spans recorded.</p></section>'
    errors = (
        _trace_table(failing, "error-traces")
        if failing
        else "<p class=muted>No span has an error status.</p>"
    )
    return (
        '<section id="traces"><h2>Traces</h2>'
        f"<h3>Slowest traces</h3>{_trace_table(slowest, 'slowest-traces')}"
        f"<h3>Traces with errors</h3>{errors}"
        f"<h3>All traces with a waterfall ({embedded})</h3>"
        '<div class="pager" id="all-traces-pager"></div>'
        '<table id="all-traces"><thead><tr><th>trace (root span)</th><th>service</th>'
        '<th>started</th><th class="num">duration</th><th class="num">spans</th>'
        '<th class="num">errors</th></tr></thead><tbody id="all-traces-body"></tbody></table>'
        "</section>"
    )


def _exemplar_links(exemplars: Iterable[Exemplar]) -> str:
    links = [
        f'<a class="exemplar-link mono" href="#trace={e.trace_id}&amp;span={e.span_id}" '
        f'title="trace {e.trace_id}">{escape(format_seconds(e.value))}</a>'
        for e in exemplars
    ]
    return f"<p>exemplars: {' · '.join(links)}</p>" if links else ""


def _bucket_label(bound: float) -> str:
    return "+∞" if math.isinf(bound) else format_seconds(bound)


def _histogram(row: FunctionRow) -> str:
    filled = [i for i, count in enumerate(row.counts) if count]
    if not filled:
        return "<p class=muted>no calls in buckets</p>"
    first, last = max(0, filled[0] - 1), min(len(row.counts) - 1, filled[-1] + 1)
    edges = [0.0, *row.bounds, math.inf]
    bars = [
        Bar(
            value=row.counts[i],
            label=_bucket_label(edges[i + 1]),
            title=f"{row.counts[i]} calls ≤ {_bucket_label(edges[i + 1])}",
        )
        for i in range(first, last + 1)
    ]
    markers = []
    for exemplar in row.exemplars:
        bucket = next((i for i, b in enumerate(row.bounds) if exemplar.value <= b), len(row.bounds))
        if first <= bucket <= last:
            markers.append(
                Marker(
                    bucket - first,
                    f"#trace={exemplar.trace_id}&span={exemplar.span_id}",
                    f"exemplar {format_seconds(exemplar.value)}: open its trace",
                )
            )
    return bar_chart(bars, label=f"latency histogram of {row.name}", markers=markers)


def _functions_section(functions: list[FunctionRow]) -> str:
    if not functions:
        return (
            '<section id="functions"><h2>Functions</h2><p class=muted>No '
            "<code>codomyrmex.function.duration</code> metrics recorded.</p></section>"
        )
    rows, cards = [], []
    for index, row in enumerate(functions):
        p50, p95, p99 = (format_seconds(row.quantile(q)) for q in (0.5, 0.95, 0.99))
        rows.append(
            f'<tr><td><a class="mono" href="#fn-{index}">{escape(row.name)}</a></td>'
            f'<td class="num">{row.count}</td>'
            f'<td class="num{" error-text" if row.errors else ""}">{row.errors}</td>'
            f'<td class="num">{p50}</td><td class="num">{p95}</td><td class="num">{p99}</td>'
            f'<td class="num">{format_seconds(row.total)}</td></tr>'
        )
        cards.append(
            f'<div class="card" id="fn-{index}"><h3 class="mono">{escape(row.name)}</h3>'
            f'<p class="stats muted">{row.count} calls · {row.errors} errors · p50 {p50} · '
            f"p95 {p95} · p99 {p99} · mean {format_seconds(row.mean)}</p>"
            f"{_histogram(row)}{_exemplar_links(row.exemplars)}</div>"
        )
    return (
        '<section id="functions"><h2>Functions</h2><table id="function-table"><thead><tr>'
        '<th>function</th><th class="num">calls</th><th class="num">errors</th>'
        '<th class="num">p50</th><th class="num">p95</th><th class="num">p99</th>'
        f'<th class="num">total</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "<h3>Latency histograms (explicit buckets; dots are exemplars, click to open the "
        f'trace)</h3><div class="cards">{"".join(cards)}</div></section>'
    )


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0%}"


def _caches_section(caches: list[CacheRow]) -> str:
    if not caches:
        return ""
    rows, cards = [], []
    for row in caches:
        evictions = ", ".join(f"{int(v)} {k}" for k, v in sorted(row.evictions.items()) if v)
        entries = "—" if row.entries is None else f"{int(row.entries)}"
        rows.append(
            f"<tr><td class=mono>{escape(row.name)}</td><td class=num>{int(row.hits)}</td>"
            f"<td class=num>{int(row.misses)}</td><td class=num>{_percent(row.hit_rate)}</td>"
            f'<td><div class="meter"><span style="width:{0 if math.isnan(row.hit_rate) else row.hit_rate * 100:.1f}%"></span></div></td>'  # noqa: E501
            f"<td class=num>{escape(evictions or '0')}</td><td class=num>{entries}</td></tr>"
        )
        if len(row.times) > 1:
            labels = [_when(t)[11:19] for t in row.times]
            cards.append(
                f'<div class="card"><h3 class="mono">{escape(row.name)}</h3>'
                + line_chart(
                    [Series("hit rate", row.hit_rates)],
                    labels,
                    label=f"hit rate of {row.name} over time",
                    y_format=_percent,
                    y_floor=0.0,
                )
                + line_chart(
                    [Series("evictions", row.evicted, css="evictions")],
                    labels,
                    label=f"evictions of {row.name} over time",
                    y_format=lambda v: f"{v:.0f}",
                    y_floor=0.0,
                )
                + "</div>"
            )
    over_time = (
        f'<h3>Over time (cumulative)</h3><div class="cards">{"".join(cards)}</div>'
        if cards
        else "<p class=muted>One export so far: run longer to see hit rates over time.</p>"
    )
    return (
        '<section id="caches"><h2>Caches</h2><table id="cache-table"><thead><tr><th>cache</th>'
        '<th class="num">hits</th><th class="num">misses</th><th class="num">hit rate</th><th>'
        '</th><th class="num">evictions</th><th class="num">entries</th></tr></thead><tbody>'
        f"{''.join(rows)}</tbody></table>{over_time}</section>"
    )


def _imports_section(imports: list[ImportRow]) -> str:
    if not imports:
        return ""
    slowest = max((row.mean for row in imports), default=0.0) or 1.0
    rows = []
    for row in imports:
        exemplar = row.exemplars[0] if row.exemplars else None
        name = (
            _trace_link(exemplar.trace_id, exemplar.span_id, row.module)
            if exemplar
            else escape(row.module)
        )
        rows.append(
            f"<tr><td class=mono>{name}</td><td class=num>{format_seconds(row.mean)}</td>"
            f'<td><div class="meter"><span style="width:{100 * row.mean / slowest:.1f}%">'
            f"</span></div></td><td class=num>{row.count}</td></tr>"
        )
    return (
        '<section id="imports"><h2>Lazy imports</h2><table id="import-table"><thead><tr>'
        '<th>module</th><th class="num">import time (mean)</th><th></th>'
        f'<th class="num">imports</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</section>"
    )


def _benchmarks_section(runs: list[BenchmarkRun]) -> str:
    if not runs:
        return ""
    blocks = []
    for run in runs:
        rows, intervals = [], []
        for bench in run.benchmarks:
            verdict = bench.verdict
            ratio, low, high = (bench.figure(k) for k in ("ratio", "ci_low", "ci_high"))
            comparison = (
                f"{ratio:.3f} [{low:.3f}, {high:.3f}]" if math.isfinite(ratio) else "no baseline"
            )
            shown = "FAILED" if bench.span.error else verdict or "—"
            css = "regression" if bench.span.error else verdict or ""
            status = f'<span class="verdict {escape(css)}">{escape(shown)}</span>'
            rows.append(
                f"<tr><td>{_trace_link(bench.span.trace_id, bench.span.span_id, bench.name)}</td>"
                f"<td class=num>{format_seconds(bench.figure('median'))}</td>"
                f"<td class=num>{format_seconds(bench.figure('iqr'))}</td>"
                f"<td class=num>{escape(comparison)}</td><td>{status}</td></tr>"
            )
            if math.isfinite(ratio):
                intervals.append(
                    Interval(bench.name, ratio, low, high, verdict or "no_change", comparison)
                )
        chart = (
            interval_chart(intervals, label=f"ratios of {run.suite} against its baseline")
            if intervals
            else ""
        )
        commit = f" · commit <code>{escape(run.commit[:12])}</code>" if run.commit else ""
        blocks.append(
            f'<div class="card benchmark-run"><h3>{_trace_link(run.span.trace_id, run.span.span_id, run.suite)}</h3>'  # noqa: E501
            f'<p class="muted">{_when(run.span.start)}{commit} · '
            f"{_seconds(run.span.duration)}</p><table><thead><tr><th>benchmark</th>"
            '<th class="num">median</th><th class="num">IQR</th>'
            '<th class="num">ratio [95% CI]</th><th>verdict</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{chart}</div>"
        )
    return (
        '<section id="benchmarks"><h2>Benchmark runs</h2>'
        f'<div class="cards">{"".join(blocks)}</div></section>'
    )


def _trace_view() -> str:
    return (
        '<section id="trace-view" hidden><p><a href="#traces">← all traces</a></p>'
        '<div id="trace-header"></div><div class="trace-layout"><div>'
        '<div class="wf-axis" id="waterfall-axis"></div><div id="waterfall-rows"></div>'
        '<button type="button" id="waterfall-more" hidden></button></div>'
        '<aside id="span-details"></aside></div></section>'
    )


class _Strings:
    """Interned strings: each distinct text is written once and referred to by index."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.values)
            self.values.append(text)
        return found


def _attribute_text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    else:
        text = json.dumps(value, default=str)
    if len(text) > _VALUE_CHARS:
        return f"{text[:_VALUE_CHARS]}… ({len(text)} characters)"
    return text


def _page_data(layouts: list[TraceLayout], functions: list[FunctionRow]) -> dict[str, Any]:
    strings = _Strings()
    attribute_sets: dict[tuple[int, ...], int] = {}
    events: list[list[list[Any]]] = []

    pairs: dict[tuple[str, Any], tuple[int, int]] = {}

    def pair(key: str, value: Any) -> tuple[int, int]:
        try:
            return pairs[key, value]
        except KeyError:
            found = pairs[key, value] = (strings(key), strings(_attribute_text(value)))
            return found
        except TypeError:  # an unhashable value (an array attribute)
            return strings(key), strings(_attribute_text(value))

    def attribute_set(attributes: dict[str, Any]) -> int:
        flat = tuple(index for key, value in attributes.items() for index in pair(key, value))
        return attribute_sets.setdefault(flat, len(attribute_sets))

    traces = []
    for layout in layouts:
        total = layout.duration or 1
        spans: list[list[Any]] = []
        for span, depth in layout.rows:
            spans.append(_span_row(span, depth, layout.start, total, strings, attribute_set))
            if span.events:
                spans[-1][11] = len(events)
                events.append(
                    [
                        [
                            strings(e.name),
                            _seconds(e.time - layout.start),
                            attribute_set(e.attributes),
                        ]
                        for e in span.events
                    ]
                )
        traces.append(
            {
                "id": layout.trace_id,
                "root": strings(layout.root.name),
                "when": _when(layout.start),
                "dur": _seconds(layout.duration),
                "n": len(layout.rows),
                "errors": layout.errors,
                "services": ", ".join(layout.services),
                "ticks": [_seconds(layout.duration * i / 4) for i in range(5)],
                "spans": spans,
            }
        )
    return {
        "strings": strings.values,
        "attrs": [list(flat) for flat in attribute_sets],
        "events": events,
        "traces": traces,
        "functions": {row.name: index for index, row in enumerate(functions)},
    }


def _span_row(
    span: Span, depth: int, origin: int, total: int, strings: _Strings, attribute_set: Any
) -> list[Any]:
    offset = span.start - origin
    return [
        span.span_id,
        depth,
        strings(span.name),
        round(100 * offset / total, 3),
        round(100 * span.duration / total, 3),
        _seconds(span.duration),
        _seconds(offset),
        1 if span.error else 0,
        attribute_set(span.attributes),
        strings(span.service),
        strings(span.status_message),
        -1,
    ]
