"""Small inline SVG charts for the HTML pages (``codomyrmex-perf view``, ``bench --html``).

Plain SVG text generated here, so a page needs no script, font or stylesheet from
anywhere: it renders from ``file://`` with the network off. Colours come from CSS classes
(``c-<name>``) that the page's stylesheet defines; every text is escaped; every mark has
a ``<title>`` (the browser's tooltip). Charts scale to their container's width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "Interval", "Marker", "Series", "bar_chart", "interval_chart", "line_chart"]

_WIDTH = 400
_FONT = 10


@dataclass(frozen=True)
class Bar:
    """One bar: its height, the axis label under it and its tooltip."""

    value: float
    label: str
    title: str


@dataclass(frozen=True)
class Marker:
    """A dot above bar ``index`` linking to ``href`` (an exemplar of that bucket)."""

    index: int
    href: str
    title: str


@dataclass(frozen=True)
class Series:
    """A line through ``values`` (None leaves a gap); ``band`` shades a (low, high) range."""

    name: str
    values: Sequence[float | None]
    css: str = "line"
    band: Sequence[tuple[float, float] | None] | None = None
    titles: Sequence[str] | None = None


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval, drawn as a dot on a horizontal segment."""

    label: str
    estimate: float
    low: float
    high: float
    css: str
    title: str


def _svg(height: int, label: str, body: list[str], css: str = "chart") -> str:
    return (
        f'<svg class="{css}" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", css: str = "axis") -> str:
    return (
        f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
        f'font-size="{_FONT}">{escape(text)}</text>'
    )


def _label_step(count: int, room: int) -> int:
    return max(1, math.ceil(count / max(1, room)))


def bar_chart(
    bars: Sequence[Bar],
    *,
    label: str,
    markers: Sequence[Marker] = (),
    height: int = 110,
    css: str = "bar",
) -> str:
    """Vertical bars of equal width (a histogram's buckets), labels thinned to fit."""
    left, bottom, top = 20, 16, 10
    plot_h = height - bottom - top
    width = (_WIDTH - 2 * left) / max(1, len(bars))
    peak = max((b.value for b in bars), default=0.0) or 1.0
    body: list[str] = []
    step = _label_step(len(bars), 6)
    for index, bar in enumerate(bars):
        h = plot_h * bar.value / peak
        x = left + index * width
        body.append(
            f'<rect class="c-{css}" x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(1.0, width - 2):.1f}" height="{h:.1f}">'
            f"<title>{escape(bar.title)}</title></rect>"
        )
        if index % step == 0:
            body.append(_text(x + width / 2, height - 4, bar.label))
    for marker in markers:
        if not 0 <= marker.index < len(bars):
            continue
        h = plot_h * bars[marker.index].value / peak
        cx = left + (marker.index + 0.5) * width
        body.append(
            f'<a href="{escape(marker.href)}" class="exemplar"><circle class="c-exemplar" '
            f'cx="{cx:.1f}" cy="{max(4.0, top + plot_h - h - 5):.1f}" r="3.5">'
            f"<title>{escape(marker.title)}</title></circle></a>"
        )
    body.append(
        f'<line class="c-axis" x1="{left}" x2="{_WIDTH - left}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    return _svg(height, label, body)


def line_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    label: str,
    y_format: Callable[[float], str],
    y_floor: float | None = None,
    height: int = 130,
) -> str:
    """Lines over shared x positions (runs, export times), with the y range labelled."""
    left, right, bottom, top = 56, 8, 18, 10
    plot_w, plot_h = _WIDTH - left - right, height - bottom - top
    values = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    values += [x for s in series for pair in (s.band or ()) if pair for x in pair]
    values = [v for v in values if math.isfinite(v)]
    low = min([*values, y_floor]) if y_floor is not None else min(values, default=0.0)
    high = max(values, default=1.0)
    if high - low <= abs(high) * 1e-9:
        low, high = low - (abs(low) or 1.0) * 0.05, high + (abs(high) or 1.0) * 0.05
    count = max(len(x_labels), max((len(s.values) for s in series), default=0))

    def x_at(index: int) -> float:
        return left + (plot_w / 2 if count <= 1 else plot_w * index / (count - 1))

    def y_at(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    body = [
        f'<line class="c-axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>',
        _text(left - 4, top + 4, y_format(high), anchor="end"),
        _text(left - 4, top + plot_h, y_format(low), anchor="end"),
    ]
    for one in series:
        if one.band:
            upper = [(x_at(i), y_at(b[1])) for i, b in enumerate(one.band) if b]
            lower = [(x_at(i), y_at(b[0])) for i, b in enumerate(one.band) if b]
            if len(upper) > 1:
                outline = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
                body.append(f'<polygon class="c-band-{one.css}" points="{outline}"/>')
        points = [(i, v) for i, v in enumerate(one.values) if v is not None and math.isfinite(v)]
        if len(points) > 1:
            path = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in points)
            body.append(f'<polyline class="c-{one.css}" fill="none" points="{path}"/>')
        for i, v in points:
            tip = one.titles[i] if one.titles and i < len(one.titles) else f"{one.name}: {v}"
            body.append(
                f'<circle class="c-dot-{one.css}" cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="2.8">'
                f"<title>{escape(tip)}</title></circle>"
            )
    step = _label_step(len(x_labels), 5)
    last = len(x_labels) - 1
    for index, text in enumerate(x_labels):
        if index % step == 0 or index == last:
            anchor = "start" if index == 0 and last else "end" if index == last else "middle"
            body.append(_text(x_at(index), height - 4, text, anchor=anchor))
    return _svg(height, label, body)


def interval_chart(
    rows: Sequence[Interval],
    *,
    label: str,
    reference: float = 1.0,
    threshold: float | None = None,
    value_format: Callable[[float], str] = "{:.3f}".format,
) -> str:
    """One line per row: the estimate and its interval against a reference line (1.0).

    Positive values (ratios) are placed on a log scale, so that 0.5× and 2× lie equally
    far from 1.0 and a large ratio never pushes the axis below zero.
    """
    left, right, row_h, top = 150, 12, 22, 16
    height = top + row_h * max(1, len(rows)) + 16
    finite = [v for r in rows for v in (r.low, r.high, r.estimate) if math.isfinite(v)]
    marks = [reference] + ([threshold, reference * reference / threshold] if threshold else [])
    logarithmic = all(v > 0 for v in finite + marks)
    scale: Callable[[float], float] = math.log if logarithmic else float
    unscale: Callable[[float], float] = math.exp if logarithmic else float
    low, high = min(map(scale, finite + marks)), max(map(scale, finite + marks))
    pad = (high - low) * 0.08 or 0.05
    low, high = low - pad, high + pad
    plot_w = _WIDTH - left - right

    def x_at(value: float) -> float:
        return left + plot_w * (scale(value) - low) / (high - low)

    body = [
        f'<line class="c-reference" x1="{x_at(reference):.1f}" x2="{x_at(reference):.1f}" '
        f'y1="{top - 6}" y2="{height - 14}"/>',
        _text(x_at(reference), top - 6, value_format(reference)),
    ]
    if threshold is not None:
        body.append(
            f'<line class="c-threshold" x1="{x_at(threshold):.1f}" x2="{x_at(threshold):.1f}" '
            f'y1="{top - 6}" y2="{height - 14}"><title>regression threshold '
            f"{escape(value_format(threshold))}</title></line>"
        )
    for index, row in enumerate(rows):
        y = top + row_h * index + row_h / 2
        short = row.label if len(row.label) <= 26 else "…" + row.label[-25:]
        body.append(_text(left - 6, y + 3, short, anchor="end", css="label"))
        if not all(math.isfinite(v) for v in (row.low, row.high, row.estimate)):
            body.append(_text(left + 4, y + 3, "no comparison", anchor="start"))
            continue
        body.append(
            f'<g class="c-{escape(row.css)}"><title>{escape(row.title)}</title>'
            f'<line x1="{x_at(row.low):.1f}" x2="{x_at(row.high):.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke-width="2"/>'
            f'<circle cx="{x_at(row.estimate):.1f}" cy="{y:.1f}" r="4"/></g>'
        )
    body.append(_text(left, height - 3, value_format(unscale(low)), anchor="start"))
    body.append(_text(_WIDTH - right, height - 3, value_format(unscale(high)), anchor="end"))
    return _svg(height, label, body, css="chart intervals")
