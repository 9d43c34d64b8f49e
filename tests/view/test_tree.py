"""``codomyrmex-perf view --tree`` in a real pseudo-terminal at 60, 80 and 140 columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codomyrmex.performance.view._tree import _shared_module
from harness.perf_command import SCRIPT
from harness.terminal import in_terminal

DURATION = r"[0-9.]+ (ns|µs|ms|s)$"


def trace_id(directory: Path) -> str:
    line = (directory / "traces.jsonl").read_text(encoding="utf-8").splitlines()[0]
    return str(json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"])


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_the_slowest_trace_prints_as_a_tree_that_fits_the_terminal(
    demo_dir: Path, columns: int
) -> None:
    run = in_terminal([str(SCRIPT), "view", str(demo_dir), "--tree"], columns=columns)
    assert run.exit_code == 0, run.output
    lines = run.lines
    assert all(len(line) <= columns for line in lines), [
        line for line in lines if len(line) > columns
    ]
    assert lines[0].startswith(f"trace {trace_id(demo_dir)} · ")
    rows = [line for line in lines if "█" in line]
    header = lines[: lines.index(rows[0])]
    assert " ".join(header).endswith("names without codomyrmex.performance.cli._workload.")
    assert not [line for line in header if line.startswith("·") or line.endswith(("·", "· "))]
    assert len(rows) == 200
    assert rows[0].startswith("demo.workload ")  # not in the module: its whole name
    assert rows[1].startswith("├─ checkout ")  # the module's functions: without it
    assert rows[2].startswith("│  ├─ load_batch ")
    assert rows[3].startswith("│  │  ├─ parse_order ")
    assert all(re.search(DURATION, row) for row in rows)
    declined = [row for row in rows if "✗" in row]
    assert len(declined) == 1 and "✗ charge_card " in declined[0]
    assert "161 more spans" in " ".join(lines[lines.index(rows[-1]) + 1 :])


def test_a_trace_is_chosen_by_an_id_prefix(demo_dir: Path) -> None:
    wanted = trace_id(demo_dir)
    run = in_terminal([str(SCRIPT), "view", str(demo_dir), "--tree", wanted[:8]], columns=80)
    assert run.exit_code == 0, run.output
    assert run.lines[0].startswith(f"trace {wanted} · ")
    missing = in_terminal([str(SCRIPT), "view", str(demo_dir), "--tree", "ffff0000"], columns=80)
    assert missing.exit_code == 2
    assert missing.output.strip() == f"codomyrmex-perf: error: no trace 'ffff0000' in {demo_dir}"


@pytest.mark.parametrize(
    ("names", "prefix"),
    [
        (["shop.add_item", "shop.add_item", "shop.Cart.total"], "shop."),
        (["demo.workload", "pkg.mod.a", "pkg.mod.b", "import sqlite3"], "pkg.mod."),
        (["a.b", "c.d"], ""),  # no module has two of the names
        (["import json", "main", "", "pkg.", ".f", "..", "pkg."], ""),
    ],
)
def test_the_module_left_out_of_the_names_is_the_one_most_of_them_share(
    names: list[str], prefix: str
) -> None:
    assert _shared_module(names) == prefix
