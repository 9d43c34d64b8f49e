"""The end-of-session table: one section per group, each benchmark on a line that fits.

Styled like ``codomyrmex-perf bench``'s table (median, IQR, ops/s, rounds×calls, and with
a baseline the ratio, its 95 % CI, the p-value and the verdict) and grouped like
pytest-benchmark's (``--benchmark-group-by``, ``--benchmark-sort``). It fits the terminal:
a name too long for its column gets a line of its own, and the comparison moves to a
second line when one line cannot hold it. Under ``-q`` only one line per regression.
"""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from codomyrmex.performance._shared.units import format_seconds

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from codomyrmex.performance.pytest_plugin._run import Record, Run

__all__ = ["write_summary"]

_VERDICT_MARKUP: dict[str, dict[str, bool]] = {
    "regression": {"red": True, "bold": True},
    "improvement": {"green": True, "bold": True},
    "no_change": {},
    "inconclusive": {"yellow": True},
}
_FIGURES = (("median", 9), ("IQR", 9), ("ops/s", 11), ("rounds×calls", 13))
_COMPARISON = (("ratio", 6), ("95% CI", 15), ("p", 7), ("verdict", 12))
_NAME_MIN = 16

Segment = tuple[str, dict[str, bool]]


def write_summary(reporter: TerminalReporter, run: Run) -> None:
    """Print the session's benchmarks (nothing when none ran)."""
    if not run.records:
        return
    if reporter.config.get_verbosity() < 0 or run.settings.quiet:
        for record in run.records:
            if record.result.verdict == "regression":
                reporter.write_line(_regression_line(record), red=True, bold=True)
        for error in run.errors:
            reporter.write_line(error, red=True)
        return
    width = reporter._tw.fullwidth
    compared = any(r.result.comparison is not None for r in run.records)
    for title, records in _groups(run):
        count = f"{len(records)} test" + ("s" if len(records) > 1 else "")
        reporter.write_sep("-", f"benchmark {title}: {count}")
        for line in _table(records, width, compared=compared):
            for text, markup in line:
                reporter.write(text, **markup)
            reporter.write("\n")
    reporter.write("\n")
    for note in run.notes:
        reporter.write_line(note)
    for error in run.errors:
        reporter.write_line(error, red=True)


def _regression_line(record: Record) -> str:
    c = record.result.comparison
    assert c is not None
    return (
        f"REGRESSION {record.nodeid}: {c.ratio:.3f}× [{c.ci_low:.3f}, {c.ci_high:.3f}] "
        f"p={c.p_value:.2g} ({c.mode})"
    )


_SORT_KEYS: dict[str, Callable[[Record], Any]] = {
    "min": lambda r: min(r.result.samples, default=0.0),
    "max": lambda r: max(r.result.samples, default=0.0),
    "mean": lambda r: statistics.fmean(r.result.samples) if r.result.samples else 0.0,
    "stddev": lambda r: statistics.stdev(r.result.samples) if len(r.result.samples) > 1 else 0,
    "name": lambda r: r.name,
    "fullname": lambda r: r.nodeid,
}


def _group_key(record: Record, group_by: str) -> str:
    parts: list[str] = []
    for grouping in group_by.split(","):
        if grouping == "group":
            parts.append(record.group)
        elif grouping == "name":
            parts.append(record.name)
        elif grouping == "func":
            parts.append(record.name.split("[", 1)[0])
        elif grouping == "fullname":
            parts.append(record.nodeid)
        elif grouping == "fullfunc":
            parts.append(record.nodeid.split("[", 1)[0])
        elif grouping == "param":
            parts.append(record.param or "")
        else:
            name = grouping.removeprefix("param:")
            if record.params and name in record.params:
                parts.append(f"{name}={record.params[name]}")
    return " ".join(p for p in parts if p) or "(no group)"


def _groups(run: Run) -> Iterator[tuple[str, list[Record]]]:
    grouped: dict[str, list[Record]] = {}
    for record in run.records:
        grouped.setdefault(_group_key(record, run.settings.group_by), []).append(record)
    sort = run.settings.sort
    for title, records in grouped.items():
        yield title, sorted(records, key=_SORT_KEYS[sort]) if sort else records


def _cells(widths: tuple[tuple[str, int], ...], values: list[str]) -> str:
    return "".join(f"  {value:>{width}}" for (_, width), value in zip(widths, values, strict=True))


def _table(records: list[Record], width: int, *, compared: bool) -> Iterator[list[Segment]]:
    figures = sum(w + 2 for _, w in _FIGURES)
    comparison = sum(w + 2 for _, w in _COMPARISON)
    one_line = compared and width - figures - comparison >= _NAME_MIN
    name_width = max(width - figures - (comparison if one_line else 0), _NAME_MIN)
    header = f"{'name':<{name_width}}" + _cells(_FIGURES, [h for h, _ in _FIGURES])
    if one_line:
        header += _cells(_COMPARISON, [h for h, _ in _COMPARISON[:-1]] + ["verdict".ljust(12)])
    yield [(header.rstrip(), {"bold": True})]
    for record in records:
        result = record.result
        name = record.name
        if len(name) > name_width:
            for piece in textwrap.wrap(name, width, break_on_hyphens=False) or [name]:
                yield [(piece, {})]
            name = ""
        if result.failed:
            if name:
                yield [(name, {})]
            for piece in textwrap.wrap(f"FAILED: {result.error}", width - 2):
                yield [("  " + piece, {"red": True, "bold": True})]
            continue
        figures_text = _cells(
            _FIGURES,
            [format_seconds(result.median), format_seconds(result.iqr),
             f"{result.ops_per_sec:,.0f}", f"{result.rounds}×{result.iterations}"],
        )  # fmt: skip
        line: list[Segment] = [(f"{name:<{name_width}}{figures_text}", {})]
        c = result.comparison
        if c is not None:
            ratio, ci = f"{c.ratio:.3f}", f"[{c.ci_low:.3f}, {c.ci_high:.3f}]"
            p = f"{c.p_value:.2g}"
            verdict = (c.verdict, _VERDICT_MARKUP[c.verdict])
            if one_line:
                line += [(_cells(_COMPARISON[:3], [ratio, ci, p]) + "  ", {}), verdict]
            else:
                yield line
                line = [(f"  vs baseline: {ratio}× {ci}  p={p}  ", {}), verdict,
                        (f" ({c.mode})", {})]  # fmt: skip
        yield line
        for warning in result.warnings:
            for piece in textwrap.wrap(f"note: {warning}", width - 2):
                yield [("  " + piece, {})]
