"""The comparison table of a benchmark run in GitHub-flavoured Markdown.

``codomyrmex-perf bench ... --markdown FILE`` writes it for a pull-request comment and,
when ``$GITHUB_STEP_SUMMARY`` is set (inside GitHub Actions), appends it to the job's
summary as well. One row per benchmark: median, IQR, ops/s, ratio to the baseline with
its 95 % confidence interval, and the verdict (regressions in bold).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from codomyrmex.performance._shared.files import write_text_atomically
from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.environment_variables import GITHUB_STEP_SUMMARY
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult

__all__ = ["comparison_markdown", "write_markdown"]

_VERDICT_TEXT = {
    "regression": "**regression** 🔴",
    "improvement": "improvement 🟢",
    "no_change": "no change",
    "inconclusive": "inconclusive ⚠️",
}


def _cell(text: str) -> str:
    """Text safe inside a table cell: pipes escaped, no line breaks."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{_cell(text)}{fence}"


def _row(suite: str, result: BenchmarkResult) -> str:
    name = _code(f"{suite}.{result.name}")
    if result.failed:
        return f"| {name} | | | | | | **FAILED**: {_cell(result.error or '')} |"
    cells = [
        name,
        format_seconds(result.median),
        format_seconds(result.iqr),
        f"{result.ops_per_sec:,.0f}" if math.isfinite(result.ops_per_sec) else "—",
    ]
    c = result.comparison
    if c is None:
        cells += ["—", "—", "no baseline"]
    else:
        cells += [f"{c.ratio:.3f}", f"[{c.ci_low:.3f}, {c.ci_high:.3f}]", _VERDICT_TEXT[c.verdict]]
    return "| " + " | ".join(cells) + " |"


def comparison_markdown(runs: Sequence[SuiteResult]) -> str:
    """A heading, one summary line and the table of ``runs``."""
    results = [r for run in runs for r in run.results]
    regressions = sum(1 for r in results if r.verdict == "regression")
    failures = sum(1 for r in results if r.failed)
    commit = next((run.commit for run in runs if run.commit), None)
    summary = [f"{len(results)} benchmarks", f"{regressions} regressions", f"{failures} failed"]
    if commit:
        summary.insert(0, f"commit `{commit[:12]}`")
    lines = [
        "### Benchmarks",
        "",
        " · ".join(summary),
        "",
        "| benchmark | median | IQR | ops/s | ratio | 95% CI | verdict |",
        "| :-- | --: | --: | --: | --: | :-: | :-- |",
        *(_row(run.name, r) for run in runs for r in run.results),
    ]
    return "\n".join(lines) + "\n"


def write_markdown(runs: Sequence[SuiteResult], path: str | os.PathLike[str]) -> Path:
    """Write the table to ``path`` (atomically); append it to ``$GITHUB_STEP_SUMMARY`` if set.

    An ``OSError`` names the file that could not be written.
    """
    text = comparison_markdown(runs)
    target = Path(path)
    try:
        write_text_atomically(target, text)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, os.fspath(path)) from None
    summary = os.environ.get(GITHUB_STEP_SUMMARY)
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write("\n" + text)
    return target
