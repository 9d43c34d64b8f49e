"""A benchmark run as one self-contained HTML page (``bench --html``, ``run_benchmark(html=)``).

For each benchmark: its figures, the distribution of its round times (a histogram; the
baseline's rounds beside it when they are known), and, for each suite with a baseline,
the ratios with their 95 % confidence intervals plotted against 1.0 and the regression
threshold. With a history (``--history DIR``, see
:mod:`~codomyrmex.performance.profiling.history`) each benchmark also gets a trend chart
of its median (IQR shaded) across the past runs, labelled by commit. With profiles
(``--profile DIR``, see :mod:`~codomyrmex.performance.profiling.profiles`) each benchmark
lists its top functions by own time, links its pstats file and flame graph, and on a
``regression`` shows the functions that grew most, sorted by their growth per call. Charts
are inline SVG; the page fetches nothing and opens from disk.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from codomyrmex.performance._shared.charts import (
    Bar,
    Interval,
    Series,
    bar_chart,
    interval_chart,
    line_chart,
)
from codomyrmex.performance._shared.files import write_text_atomically
from codomyrmex.performance._shared.html_page import page
from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.profiling.history import HistoryRecord
from codomyrmex.performance.profiling.profiles import FunctionDelta, Profile
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult

__all__ = ["render_report", "write_report"]

_BINS = 16
_STYLE = (
    ".c-bar-baseline { fill: #9aa5b1; } .profile-diff, details.profile { overflow-x: auto; }"
    " .card.grew { grid-column: 1 / -1; }"
)


def _histogram_bars(samples: Sequence[float], low: float, high: float) -> list[Bar]:
    width = (high - low) / _BINS or 1.0
    counts = [0] * _BINS
    for sample in samples:
        counts[min(_BINS - 1, max(0, int((sample - low) / width)))] += 1
    return [
        Bar(
            value=count,
            label=format_seconds(low + width * index),
            title=f"{count} rounds in {format_seconds(low + width * index)}–"
            f"{format_seconds(low + width * (index + 1))}",
        )
        for index, count in enumerate(counts)
    ]


def _distribution(result: BenchmarkResult) -> str:
    baseline = result.comparison.baseline_samples if result.comparison else ()
    everything = [*result.samples, *baseline]
    low, high = min(everything), max(everything)
    charts = [
        "<p class=muted>round times (s per call)</p>",
        bar_chart(
            _histogram_bars(result.samples, low, high),
            label=f"round times of {result.name}",
        ),
    ]
    if baseline:
        charts += [
            "<p class=muted>baseline round times</p>",
            bar_chart(
                _histogram_bars(baseline, low, high),
                label=f"baseline round times of {result.name}",
                css="bar-baseline",
            ),
        ]
    return "".join(charts)


def _trend(key: str, history: Sequence[HistoryRecord]) -> str:
    points = [(record, record.benchmarks[key]) for record in history if key in record.benchmarks]
    points = [(record, figures) for record, figures in points if figures.get("median") is not None]
    if len(points) < 2:
        return ""
    medians = [float(figures["median"]) for _, figures in points]
    bands: list[tuple[float, float] | None] = [
        (m - float(f.get("iqr") or 0) / 2, m + float(f.get("iqr") or 0) / 2)
        for m, (_, f) in zip(medians, points, strict=True)
    ]
    titles = [
        f"{record.label} ({record.timestamp}): median {format_seconds(m)}"
        + (f", {figures['verdict']}" if figures.get("verdict") else "")
        for m, (record, figures) in zip(medians, points, strict=True)
    ]
    return "<p class=muted>median across runs (IQR shaded)</p>" + line_chart(
        [Series("median", medians, band=bands, titles=titles)],
        [record.label for record, _ in points],
        label=f"trend of {key}",
        y_format=format_seconds,
        y_floor=0.0,
    )


def _where(name: str, file: str, line: int) -> str:
    place = "built-in" if file == "~" else f"{file}:{line}"
    return f"<td class=mono>{escape(name)}</td><td class=mono>{escape(place)}</td>"


def _profile_files(profile: Profile) -> str:
    links = [
        f'<a href="{escape(Path(path).as_uri())}">{label}</a>'
        for label, path in (
            ("pstats", profile.pstats),
            ("flame graph (speedscope)", profile.flamegraph),
        )
        if path is not None and Path(path).is_absolute()
    ]
    return f"<p class=muted>{' · '.join(links)}</p>" if links else ""


def _profile(result: BenchmarkResult) -> str:
    """Top functions by own time per call, as the terminal shows them."""
    profile = result.profile
    if profile is None or not profile.functions:
        return ""
    rows = "".join(
        f"<tr>{_where(f.name, f.file, f.line)}<td class=num>{f.calls:g}</td>"
        f"<td class=num>{format_seconds(f.own)}</td>"
        f"<td class=num>{format_seconds(f.cumulative)}</td></tr>"
        for f in profile.top
    )
    return (
        f'<details class="profile"><summary>profile: top {len(profile.top)} functions by own '
        f"time per call ({profile.calls} calls profiled)</summary>{_profile_files(profile)}"
        '<table class="profile-top"><thead><tr><th>function</th><th>where</th>'
        '<th class="num">calls</th><th class="num">own</th><th class="num">cumulative</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _signed(seconds: float) -> str:
    return ("+" if seconds > 0 else "−" if seconds < 0 else "") + format_seconds(abs(seconds))


def _grew_rows(deltas: Sequence[FunctionDelta]) -> str:
    return "".join(
        f"<tr>{_where(d.name, d.file, d.line)}"
        f"<td class=num>{format_seconds(d.own_before)}</td>"
        f"<td class=num>{format_seconds(d.own_after)}</td>"
        f"<td class=num>{_signed(d.own_delta)}</td>"
        f"<td class=num>{format_seconds(d.cumulative_before)}</td>"
        f"<td class=num>{format_seconds(d.cumulative_after)}</td>"
        f"<td class=num>{_signed(d.cumulative_delta)}</td></tr>"
        for d in deltas
    )


def _grew(result: BenchmarkResult) -> str:
    """On a regression: the functions whose time per call grew most (the differential profile)."""
    diff = result.comparison.profile_diff if result.comparison is not None else None
    if diff is None or not (diff.by_own or diff.by_cumulative):
        return ""
    head = (
        "<thead><tr><th>function</th><th>where</th><th class=num>own before</th>"
        "<th class=num>own after</th><th class=num>own Δ</th><th class=num>cum. before</th>"
        "<th class=num>cum. after</th><th class=num>cum. Δ</th></tr></thead>"
    )
    return (
        '<div class="profile-diff"><h4>What grew (per call, candidate vs baseline)</h4>'
        f'<p class=muted>by own time</p><table class="grew-own">{head}'
        f"<tbody>{_grew_rows(diff.by_own)}</tbody></table>"
        f'<p class=muted>by cumulative time</p><table class="grew-cumulative">{head}'
        f"<tbody>{_grew_rows(diff.by_cumulative)}</tbody></table></div>"
    )


def _comparison_text(result: BenchmarkResult) -> str:
    c = result.comparison
    if c is None:
        return "<span class=muted>no baseline</span>"
    return (
        f"{c.ratio:.3f} [{c.ci_low:.3f}, {c.ci_high:.3f}] "
        f'<span class="verdict {c.verdict}">{c.verdict}</span>'
    )


def _card(run: SuiteResult, result: BenchmarkResult, history: Sequence[HistoryRecord]) -> str:
    key = f"{run.name}.{result.name}"
    anchor = f"bench-{escape(key)}"
    if result.failed:
        return (
            f'<div class="card benchmark" id="{anchor}"><h3 class=mono>{escape(key)}</h3>'
            f'<p><span class="verdict regression">FAILED</span> {escape(result.error or "")}</p>'
            f"{_trend(key, history)}</div>"
        )
    grew = _grew(result)
    return (
        f'<div class="card benchmark{" grew" if grew else ""}" id="{anchor}">'
        f"<h3 class=mono>{escape(key)}</h3>"
        f'<p class="stats">median {format_seconds(result.median)} · IQR '
        f"{format_seconds(result.iqr)} · {result.ops_per_sec:,.0f} ops/s · "
        f"{result.rounds} rounds × {result.iterations} calls</p>"
        f"<p>{_comparison_text(result)}</p>{grew}{_distribution(result)}"
        f"{_trend(key, history)}{_profile(result)}</div>"
    )


def _interval_chart(run: SuiteResult) -> str:
    compared = [r for r in run.results if r.comparison is not None]
    if not compared:
        return ""
    rows = []
    for result in compared:
        c = result.comparison
        assert c is not None
        rows.append(
            Interval(
                result.name,
                c.ratio,
                c.ci_low,
                c.ci_high,
                c.verdict,
                f"{result.name}: ratio {c.ratio:.3f}, 95% CI [{c.ci_low:.3f}, {c.ci_high:.3f}], "
                f"{c.verdict}",
            )
        )
    threshold = max(c.threshold for r in compared if (c := r.comparison) is not None)
    return (
        "<h3>Ratio to the baseline (95% CI; dashed red: regression threshold)</h3>"
        + interval_chart(
            rows,
            label=f"ratios of {run.name}",
            threshold=threshold if math.isfinite(threshold) else None,
        )
    )


def _summary_table(runs: Sequence[SuiteResult]) -> str:
    rows = []
    for run in runs:
        for r in run.results:
            key = f"{run.name}.{r.name}"
            median = "" if r.failed else format_seconds(r.median)
            comparison = (
                '<span class="verdict regression">FAILED</span>'
                if r.failed
                else _comparison_text(r)
            )
            rows.append(
                f'<tr><td><a class=mono href="#bench-{escape(key)}">{escape(key)}</a></td>'
                f"<td class=num>{median}</td><td>{comparison}</td></tr>"
            )
    return (
        '<table id="bench-summary"><thead><tr><th>benchmark</th><th class="num">median</th>'
        f"<th>ratio [95% CI] · verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_report(runs: Sequence[SuiteResult], history: Sequence[HistoryRecord] = ()) -> str:
    """The report page of ``runs``; ``history`` (oldest first) adds the trend charts."""
    first = runs[0] if runs else None
    facts = []
    if first is not None and first.commit:
        facts.append(f"commit <code>{escape(first.commit[:12])}</code>")
    if first is not None and first.fingerprint:
        fp = first.fingerprint
        facts.append(escape(f"{fp.get('python', '')} on {fp.get('cpu_model', '')}"))
    if history:
        facts.append(f"{len(history)} runs in the history")
    sections = []
    for run in runs:
        cards = "".join(_card(run, r, history) for r in run.results)
        notes = "".join(f"<li>{escape(w)}</li>" for w in run.warnings)
        sections.append(
            f'<section class="suite"><h2>{escape(run.name)}</h2>'
            + (f'<div class="problems"><ul>{notes}</ul></div>' if notes else "")
            + f'{_interval_chart(run)}<div class="cards">{cards}</div></section>'
        )
    body = (
        '<header class="top"><h1>Benchmark report</h1>'
        f"<p class=muted>{' · '.join(facts)}</p></header><main>"
        f"<section><h2>Summary</h2>{_summary_table(runs)}</section>{''.join(sections)}</main>"
    )
    return page(
        "codomyrmex-perf bench",
        body,
        style=_STYLE,
    )


def write_report(
    runs: Sequence[SuiteResult],
    path: str | os.PathLike[str],
    history: Sequence[HistoryRecord] = (),
) -> Path:
    """Write :func:`render_report` to ``path`` atomically; an ``OSError`` names ``path``."""
    target = Path(path)
    try:
        write_text_atomically(target, render_report(runs, history))
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, os.fspath(path)) from None
    return target
