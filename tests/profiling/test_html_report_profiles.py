"""The benchmark HTML report shows profiles: top functions, files, and on a regression what grew."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from codomyrmex.performance import run_benchmark

QUICK: dict[str, Any] = {"rounds": 10, "warmup": 0, "min_time": 0.002, "resamples": 500}


def light() -> int:
    return sum(i * i for i in range(300))


def slow_helper() -> int:
    total = 0
    for i in range(10_000):
        total += i % 7
    return total


def light_then_slow() -> None:
    light()
    slow_helper()


class Tables(HTMLParser):
    """The text of each cell of each table with a class, by class: {class: [[cell, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[tuple[str, str]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("class"):
            self._table = found["class"]
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "a":
            self._href = found.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._table is not None and self._row:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._href is not None and data.strip():
            self.links.append((data.strip(), self._href))


def test_a_regression_report_lists_what_grew_and_each_profile(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = run_benchmark(
        light_then_slow, baseline=light, profile=tmp_path / "profiles", html=page, **QUICK
    )
    assert result.comparison is not None and result.comparison.verdict == "regression"
    parsed = Tables()
    parsed.feed(page.read_text())
    grew = parsed.tables["grew-own"]
    assert grew[0][0] == "slow_helper"
    assert grew[0][1] == f"{Path(__file__).name}:{slow_helper.__code__.co_firstlineno}"
    assert grew[0][4].startswith("+")
    assert parsed.tables["grew-cumulative"]
    top = parsed.tables["profile-top"]
    assert [row[0] for row in top][:1] == ["slow_helper"]
    files = dict(parsed.links)
    profile = result.profile
    assert profile is not None and profile.pstats and profile.flamegraph
    assert files["pstats"] == Path(profile.pstats).as_uri()
    assert files["flame graph (speedscope)"] == Path(profile.flamegraph).as_uri()


def test_without_profiles_the_report_has_no_profile_section(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run_benchmark(light, baseline=light, html=page, **QUICK)
    text = page.read_text()
    assert "profile-top" not in text and "What grew" not in text
