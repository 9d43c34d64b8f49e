"""Benchmark outputs: the history file, the Markdown table, the HTML report, their checks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from codomyrmex.performance.cli import main
from codomyrmex.performance.profiling import history, html_report, markdown
from codomyrmex.performance.profiling.benchmark import run_benchmark
from codomyrmex.performance.profiling.result import BenchmarkResult, Comparison, SuiteResult


def suite_result() -> SuiteResult:
    slower = BenchmarkResult("parse|json", [0.002, 0.0021, 0.0019, 0.002], 10, 4, suite="io")
    slower.comparison = Comparison(1.2, 1.1, 1.3, 0.001, "regression", threshold=1.05)
    failed = BenchmarkResult("broken", [], 0, 0, suite="io", error="ValueError: no")
    plain = BenchmarkResult("fresh", [1e-6, 1.1e-6, 0.9e-6], 100, 3, suite="io")
    return SuiteResult("io", [slower, failed, plain], commit="0123456789abcdef", fingerprint={})


def test_markdown_table_escapes_names_and_marks_regressions() -> None:
    assert markdown.comparison_markdown([suite_result()]) == (
        "### Benchmarks\n\n"
        "commit `0123456789ab` · 3 benchmarks · 1 regressions · 1 failed\n\n"
        "| benchmark | median | IQR | ops/s | ratio | 95% CI | verdict |\n"
        "| :-- | --: | --: | --: | --: | :-: | :-- |\n"
        "| `io.parse\\|json` | 2.00 ms | 50.0 µs | 500 | 1.200 | [1.100, 1.300] | "
        "**regression** 🔴 |\n"
        "| `io.broken` | | | | | | **FAILED**: ValueError: no |\n"
        "| `io.fresh` | 1.00 µs | 100 ns | 1,000,000 | — | — | no baseline |\n"
    )


def test_markdown_is_appended_to_the_github_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    markdown.write_markdown([suite_result()], tmp_path / "table.md")
    table = (tmp_path / "table.md").read_text(encoding="utf-8")
    assert summary.read_text(encoding="utf-8") == "earlier step\n\n" + table


def test_history_lines_round_trip_and_bad_lines_are_named(tmp_path: Path) -> None:
    run = suite_result()
    record = history.append([run], tmp_path / "h")
    history.append([run], tmp_path / "h")
    path = tmp_path / "h" / "history.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"schema": "something else"}\nnot json\n')
    records, problems = history.load(tmp_path / "h")
    assert records == [record, record]
    entry = records[0].benchmarks["io.parse|json"]
    assert entry["verdict"] == "regression"
    assert (entry["ratio"], entry["ci_low"], entry["ci_high"]) == (1.2, 1.1, 1.3)
    assert entry["median"] == pytest.approx(0.002)
    assert records[0].benchmarks["io.broken"] == {
        "rounds": 0,
        "iterations": 0,
        "error": "ValueError: no",
    }
    assert records[0].commit == "0123456789abcdef" and records[0].label == "01234567"
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:3", f"{path}:4"]
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(line) == {
        "schema",
        "timestamp",
        "commit",
        "package_version",
        "fingerprint",
        "benchmarks",
    }


def test_history_never_writes_nan(tmp_path: Path) -> None:
    lonely = BenchmarkResult("one", [0.5], 1, 1, suite="s")
    history.append([SuiteResult("s", [lonely])], tmp_path)
    entry = json.loads((tmp_path / "history.jsonl").read_text(encoding="utf-8"))["benchmarks"]
    assert entry["s.one"]["median"] == 0.5
    assert entry["s.one"]["iqr"] in (0.0, None)


@pytest.mark.parametrize("kind", ["file", "missing-parent"])
def test_history_directory_is_checked(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "x" if kind == "file" else tmp_path / "no" / "such"
    if kind == "file":
        target.write_text("", encoding="utf-8")
    with pytest.raises(OSError, match=str(target)):
        history.check_directory(target)


def test_html_report_shows_every_benchmark_and_the_trend(tmp_path: Path) -> None:
    run = suite_result()
    past = [history.record_of([run]) for _ in range(3)]
    page = html_report.render_report([run], past)
    assert page.count('class="card benchmark"') == 3
    assert 'aria-label="trend of io.parse|json"' in page
    assert 'aria-label="ratios of io"' in page
    assert "ValueError: no" in page
    assert "http" not in page.split("<body>", 1)[1]


def test_run_benchmark_writes_the_html_report(tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    result = run_benchmark(lambda: sum(range(50)), html=output, rounds=3, min_time=0.001)
    assert math.isfinite(result.median)
    assert "round times of" in output.read_text(encoding="utf-8")


def test_run_benchmark_checks_the_html_path_before_running(tmp_path: Path) -> None:
    calls: list[int] = []
    with pytest.raises(OSError, match="nowhere"):
        run_benchmark(lambda: calls.append(1), html=tmp_path / "nowhere" / "r.html")
    assert calls == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--html", "{d}/nowhere/r.html", "--html: cannot write {d}/nowhere/r.html: no such "),
        ("--markdown", "{d}", "--markdown: cannot write {d}: is a directory"),
        ("--history", "{d}/no/such", "--history: cannot use {d}/no/such: no such directory"),
    ],
)
def test_bench_outputs_are_checked_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    bench = tmp_path / "bench_marker.py"
    marker = tmp_path / "ran"
    bench.write_text(
        "from codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('s')\n"
        f"@suite.add\ndef touch():\n    open({str(marker)!r}, 'w').close()\n",
        encoding="utf-8",
    )
    code = main(["bench", str(bench), "--in-process", option, value.format(d=tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "codomyrmex-perf: error: " + message.format(d=tmp_path)
    )
    assert not marker.exists()
