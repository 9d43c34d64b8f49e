"""Every report fits a real terminal of 60, 80, 100 and 140 columns, names whole.

``demo``, ``run`` and ``bench`` run on a pseudo-terminal of each width (the program sees a
terminal, not ``$COLUMNS``): no line is wider than the terminal, nothing is cut with an
ellipsis (paths of the telemetry section excepted: they stay one string to copy), and
every function, cache, module and benchmark name can be read whole from the first column
of its table (folded over several lines when the column is narrow).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

from harness.terminal import TerminalRun, first_column, in_terminal

SCRIPT = str(Path(sys.executable).with_name("codomyrmex-perf"))
WIDTHS = [60, 80, 100, 140]

DEMO_FUNCTIONS = (
    "checkout", "price_orders", "lookup_price", "build_sales_index", "fetch_exchange_rate",
    "load_batch", "save_receipts", "parse_order", "receipt_lines", "charge_card",
)  # fmt: skip

PROGRAM = """
from codomyrmex.performance import cached_function, lazy_import, monitor

colorsys = lazy_import("colorsys")


@cached_function(name="a-cache-with-a-rather-long-descriptive-name")
def to_hsv(red, green, blue):
    return colorsys.rgb_to_hsv(red, green, blue)


@monitor
def paint_the_whole_canvas_in_muted_colours_and_then_some(size):
    return [to_hsv(index % 3 / 3, 0.5, 0.5) for index in range(size)]


class Easel:
    @monitor
    def frame(self):
        return paint_the_whole_canvas_in_muted_colours_and_then_some(10)


Easel().frame()
"""

SUITE = """
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("a-suite-with-a-long-name")


@suite.add
def parse_a_small_document_of_modest_size():
    sum(range(50))


@suite.add
def broken():
    raise ValueError("broken on purpose")
"""


def environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["CODOMYRMEX_PERF_TELEMETRY_DIR"] = str(tmp_path / "telemetry")
    return env


#: Lines printed unwrapped on purpose: a path or URL stays one string to copy.
WHOLE_PATH = re.compile(r"  (sent to|file): \S+( \(\S+\))?")


def check_fits(run: TerminalRun, width: int) -> None:
    too_wide = [line for line in run.lines if len(line) > width and not WHOLE_PATH.fullmatch(line)]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in run.output


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_report(tmp_path: Path, width: int) -> None:
    run = in_terminal([SCRIPT, "demo"], columns=width, env=environment(tmp_path))
    assert run.exit_code == 0, run.output
    check_fits(run, width)
    functions, blocks = run.output.split("Tracked blocks")
    names = "".join(first_column(functions))
    for name in DEMO_FUNCTIONS:
        assert name in names, run.output
    assert "codomyrmex.performance.cli._workload" in " ".join(functions.split())  # the module
    assert "demo.workload" in "".join(first_column(blocks))
    assert "demo.workload" not in names
    for name in ("demo.catalog", "demo.exchange_rates", "sqlite3", "difflib"):
        assert name in "".join(first_column(blocks)), run.output


@pytest.mark.parametrize("width", WIDTHS)
def test_run_report(tmp_path: Path, width: int) -> None:
    program = tmp_path / "painter.py"
    program.write_text(textwrap.dedent(PROGRAM))
    run = in_terminal([SCRIPT, "run", str(program)], columns=width, env=environment(tmp_path))
    assert run.exit_code == 0, run.output
    check_fits(run, width)
    names = "".join(first_column(run.output))
    for name in (
        "paint_the_whole_canvas_in_muted_colours_and_then_some",
        "Easel.frame",
        "a-cache-with-a-rather-long-descriptive-name",
        "colorsys",
    ):
        assert name in names, run.output


@pytest.mark.parametrize("width", WIDTHS)
def test_bench_table(tmp_path: Path, width: int) -> None:
    suite = tmp_path / "bench_wide.py"
    suite.write_text(textwrap.dedent(SUITE))
    run = in_terminal(
        [SCRIPT, "bench", str(suite), "--in-process", "--rounds", "3", "--min-time", "0.001"],
        columns=width,
        env=environment(tmp_path),
    )
    assert run.exit_code == 1, run.output  # a benchmark failed
    table = run.output[run.output.index("Benchmarks") :]
    check_fits(TerminalRun(table, run.exit_code), width)
    cells = first_column(table)
    names = "".join(cells)
    assert "a-suite-with-a-long-name.parse_a_small_document_of_modest_size" in names, table
    assert "a-suite-with-a-long-name.broken" in names
    assert "ValueError: broken on purpose" in " ".join(cells)  # why it failed
    assert "FAILED" in table and "no baseline" in " ".join(table.split())
