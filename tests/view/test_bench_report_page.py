"""``codomyrmex-perf bench --html`` with a history of three runs, in a real headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.browser import OfflinePage
from harness.images import png_variety
from harness.perf_command import perf

BENCH_FILE = """
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("strings")


@suite.add
def join_words():
    "-".join(["word"] * 40)


@suite.add
def sort_numbers():
    sorted(range(200, 0, -1))
"""
QUICK = ("--in-process", "--rounds", "6", "--min-time", "0.002", "--no-progress")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the third of three runs sharing one history (the first saves a baseline)."""
    directory = tmp_path_factory.mktemp("bench")
    (directory / "bench_strings.py").write_text(BENCH_FILE, encoding="utf-8")
    history = directory / "history"
    first = perf(
        "bench", "bench_strings.py", *QUICK, "--history", "history",
        "--save-baseline", "base.json", cwd=directory,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    for _ in range(2):
        later = perf(
            "bench", "bench_strings.py", *QUICK, "--history", "history", "--baseline",
            "base.json", "--html", "report.html", "--markdown", "table.md", cwd=directory,
        )  # fmt: skip
        assert later.returncode in (0, 1), later.stderr
        assert "report written to report.html" in later.stderr
    lines = (history / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert [sorted(json.loads(line)["benchmarks"]) for line in lines] == [
        ["strings.join_words", "strings.sort_numbers"]
    ] * 3
    assert "| `strings.join_words` |" in (directory / "table.md").read_text(encoding="utf-8")
    return directory / "report.html"


def test_the_report_loads_offline_with_distributions_intervals_and_trends(
    report: Path, offline_page: OfflinePage, tmp_path: Path
) -> None:
    offline_page.open(report)
    page = offline_page.page
    names = page.locator("#bench-summary tbody td:first-child").all_inner_texts()
    assert names == ["strings.join_words", "strings.sort_numbers"]
    for name in names:
        card = page.locator(f'[id="bench-{name}"]')
        assert card.locator(f'svg[aria-label="round times of {name.split(".")[1]}"]').count() == 1
        baseline = f'svg[aria-label="baseline round times of {name.split(".")[1]}"]'
        assert card.locator(baseline).count() in (0, 1)
        trend = card.locator(f'svg[aria-label="trend of {name}"]')
        assert trend.locator("circle").count() == 3
        verdict = card.locator(".verdict").inner_text()
        assert verdict in ("regression", "improvement", "no_change", "inconclusive")
    intervals = page.locator('svg[aria-label="ratios of strings"] g circle')
    assert intervals.count() == 2
    image = offline_page.screenshot("bench-report.png", tmp_path)
    assert png_variety(image) > 100
    page.locator("#bench-summary a", has_text="strings.sort_numbers").click()
    assert page.evaluate("location.hash") == "#bench-strings.sort_numbers"
    assert offline_page.requests == [report.resolve().as_uri()]
    assert offline_page.blocked == []
    assert offline_page.errors == []
