"""``codomyrmex-perf view``: what it writes, what it says, and its exit status on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codomyrmex.performance.cli import main
from harness.perf_command import perf

SPAN = {
    "traceId": "5b8efff798038103d269b633813fc60c",
    "spanId": "00f067aa0ba902b7",
    "name": "handle",
    "startTimeUnixNano": "1000",
    "endTimeUnixNano": "9000",
}
GOOD = json.dumps(
    {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]
                },
                "scopeSpans": [{"spans": [SPAN]}],
            }
        ]
    }
)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("codomyrmex-perf: error: ")
    return lines[0].removeprefix("codomyrmex-perf: error: ")


def test_a_page_is_written_and_its_path_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "traces.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["view", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    page = tmp_path / "codomyrmex-perf-view.html"
    assert captured.out == (
        f"wrote codomyrmex-perf-view.html (1 trace, 1 span, 0 histograms from 1 file): "
        f"open {page.as_uri()}\n"
    )
    assert captured.err == ""
    assert "handle" in page.read_text(encoding="utf-8")


def test_the_default_directory_is_the_embedded_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "telemetry"
    directory.mkdir()
    (directory / "traces.jsonl.1").write_text(GOOD + "\n", encoding="utf-8")
    monkeypatch.setenv("CODOMYRMEX_PERF_TELEMETRY_DIR", str(directory))
    assert main(["view", "-o", str(tmp_path / "page.html")]) == 0
    assert (tmp_path / "page.html").is_file()


def test_bad_lines_are_warned_about_and_the_good_ones_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "traces.jsonl").write_text(GOOD + "\n" + GOOD[:50], encoding="utf-8")
    output = tmp_path / "page.html"
    assert main(["view", str(tmp_path), "-o", str(output)]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"codomyrmex-perf: warning: {tmp_path / 'traces.jsonl'}:2: the last line is cut short "
        "(the exporter stopped mid-write): skipped\n"
    )
    page = output.read_text(encoding="utf-8")
    assert "handle" in page and "the last line is cut short" in page


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("missing", [], "no such file or directory: {d}/missing"),
        ("empty", [], "no telemetry files in {d}/empty (traces.jsonl, metrics.jsonl or *.json)"),
        ("good", ["--service", "other"], "no spans or metrics in {d}/good match --service other"),
        ("good", ["--since", "5m"], "no spans or metrics in {d}/good match --since 5m"),
        ("good", ["--since", "soon"], "--since: not a duration: 'soon' (use a number with s, m, "
         "h or d: 15m, 2h)"),
        ("good", ["-o", "{d}/nowhere/page.html"], "-o: no such directory: {d}/nowhere"),
        ("good", ["-o", "{d}"], "-o: {d} is a directory"),
        ("good", ["--tree", "abc"], "no trace 'abc' in {d}/good"),
    ],
)  # fmt: skip
def test_nothing_to_show_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "traces.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    arguments = [a.format(d=tmp_path) for a in args]
    output = [] if "-o" in args else ["-o", str(tmp_path / "page.html")]
    assert main(["view", str(tmp_path / setup), *output, *arguments]) == 2
    assert one_error_line(capsys) == message.format(d=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_directory_of_junk_warns_then_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "traces.jsonl").write_text("not json\n", encoding="utf-8")
    assert main(["view", str(tmp_path), "-o", str(tmp_path / "page.html")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"codomyrmex-perf: warning: {tmp_path / 'traces.jsonl'}: not OTLP-JSON, file skipped "
        f"({tmp_path / 'traces.jsonl'}:1: not JSON: skipped)",
        f"codomyrmex-perf: error: no OTLP-JSON spans or metrics could be read from {tmp_path}",
    ]
    assert not (tmp_path / "page.html").exists()


def test_the_demo_ends_by_pointing_at_the_view(tmp_path: Path) -> None:
    result = perf("demo", env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path / "t")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "view it: codomyrmex-perf view"
    shown = perf("view", "-o", str(tmp_path / "page.html"), env={
        "CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path / "t"),
    })  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"wrote {tmp_path / 'page.html'} (1 trace, ")
