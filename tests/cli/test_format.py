"""The shared table layout and help text of the command line (cli/_format, cli/_session)."""

from __future__ import annotations

import argparse

import pytest
from rich.console import Console

from codomyrmex.performance.cli import _format
from codomyrmex.performance.cli._session import HelpFormatter, plain_text
from harness.terminal import first_column

COLUMNS = [_format.Column("name"), *map(_format.Column, ("calls", "total", "p50", "p99"))]
STACKED = [((0,), (1, 2), (3, 4))]
NAMES = ["package.module.a_function_with_a_long_name", "package.module.Class.method", "x"]
ROWS = [[name, "12", "1.23 ms", "45.6 µs", "999 µs"] for name in NAMES]


def printed(width: int, rows: list[list[str]] = ROWS) -> str:
    console = Console(width=width, record=True, color_system=None)
    _format.print_table(console, "Title [not markup]", COLUMNS, rows, STACKED)
    return console.export_text()


def test_one_line_per_row_when_it_fits() -> None:
    text = printed(140)
    assert text.splitlines()[0] == "Title [not markup]"  # escaped, not padded
    for name in NAMES:
        row = next(line for line in text.splitlines() if line.startswith(f"{name} "))
        assert [cell.strip() for cell in row.split("│")] == [
            name,
            "12",
            "1.23 ms",
            "45.6 µs",
            "999 µs",
        ]


@pytest.mark.parametrize("width", [40, 50, 60, 80])
def test_narrower_stacks_cells_and_folds_names_never_cuts(width: int) -> None:
    text = printed(width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    names = "".join(first_column(text))
    for name in NAMES:
        assert name in names


def test_the_layout_taking_fewest_lines_wins() -> None:
    def one_line_per_row(text: str) -> bool:  # the header holds every column on one line
        return any("calls" in line and "total" in line for line in text.splitlines())

    short = [[name[-10:], *cells] for name, *cells in ROWS]
    assert one_line_per_row(printed(60, short))
    very_long = [["n" * 100, *ROWS[0][1:]]]  # folds over 5 lines at one line per row
    assert not one_line_per_row(printed(60, very_long))  # stacked: 4 lines
    assert one_line_per_row(printed(140, very_long))


def test_pipes_and_files_get_the_log_width(capsys: pytest.CaptureFixture[str]) -> None:
    console = _format.console()
    assert console.width == _format.LOG_WIDTH
    _format.print_table(console, "T", COLUMNS, [["n" * 300, "1", "2", "3", "4"]], STACKED)
    assert "n" * 300 in capsys.readouterr().out  # never folded in a log


@pytest.mark.parametrize(
    ("doc", "text"),
    [
        ("Run ``bench``: see :class:`~pkg.mod.Suite`.", "Run bench: see Suite."),
        ("The :func:`pkg.mod.run` function.", "The pkg.mod.run function."),
        ("A `title <https://example.com>`_ and `x`.", "A title (https://example.com) and x."),
        ("Example::\n\n    codomyrmex-perf bench x\n", "Example:\n\n    codomyrmex-perf bench x"),
        ("Alone\n\n::\n\n    code\n", "Alone\n\n    code"),
    ],
)
def test_plain_text(doc: str, text: str) -> None:
    assert plain_text(doc) == text


def test_help_paragraphs_wrap_and_examples_keep_their_lines() -> None:
    description = (
        "first paragraph " * 12
        + "\n\n    codomyrmex-perf run --otlp http://localhost:4318 app.py  # kept as is\n"
        + "\nexit status:\n  0    success\n  2    bad input"
    )
    parser = argparse.ArgumentParser(
        prog="p", description=description, formatter_class=HelpFormatter
    )
    help_text = parser.format_help()
    assert (
        "\n    codomyrmex-perf run --otlp http://localhost:4318 app.py  # kept as is\n" in help_text
    )
    assert "exit status:\n  0    success\n  2    bad input" in help_text
    assert max(len(line) for line in help_text.splitlines()) <= 80
