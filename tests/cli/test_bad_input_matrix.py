"""Bad input to every command: one line on stderr, exit 2, no traceback, nothing changed.

Each row is (command line, expected exit code, the start of the error line's message).
Paths are relative to a work directory of prepared files; the directory's files must be
byte for byte the same afterwards. Rows cover what argv can carry (lone surrogates, as
``os.fsdecode`` gives them for undecodable bytes; never NUL).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codomyrmex.performance.cli import main

BENCH = (
    "from codomyrmex.performance import BenchmarkSuite\n"
    "suite = BenchmarkSuite('ok')\nsuite.add(lambda: None, name='noop')\n"
)
FILES = {
    "bench_ok.py": BENCH,
    "bench_exits.py": "raise SystemExit(5)\n",
    "corrupt.json": "{truncated",
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "page.html": "KEEP",
}
QUICK = ["--rounds", "3", "--min-time", "0.001", "--no-progress", "--in-process"]
SURROGATE = os.fsdecode(b"caf\xe9")

ROWS = [
    (["bench", "bench_ok.py", "--html", "report.py"], "--html: report.py is a Python file"),
    (["bench", "bench_ok.py", "--markdown", "t.py"], "--markdown: t.py is a Python file"),
    (["bench", "bench_exits.py", *QUICK], "cannot load {d}/bench_exits.py: it called sys.exit(5)"),
    (["bench", "bench_ok.py", "--min-time", "nan"], "--min-time must be a positive number"),
    (["bench", "bench_ok.py", "--rounds", "9" * 30], "--rounds "),
    (
        ["bench", "bench_ok.py", "--baseline", "corrupt.json", *QUICK],
        "cannot use baseline corrupt.json: not valid",
    ),
    (
        ["bench", "bench_ok.py", "--baseline", "deep.json", *QUICK],
        "cannot use baseline deep.json: not valid",
    ),
    (["bench", SURROGATE, *QUICK], ""),
    (["view", "deep.json", "-o", "page.html"], "no OTLP-JSON spans or metrics could be read"),
    (["view", "corrupt.json", "-o", "page.html"], "no OTLP-JSON spans or metrics could be read"),
    (["view", ".", "--since", "1" + "0" * 400 + "d"], "--since: longer than a century"),
    (["view", ".", "--since", "nan"], "--since: not a duration"),
    (["view", SURROGATE], "no such file or directory"),
    (["mcp", "--transport", "streamable-http", "--host", SURROGATE], "--host: not a host name"),
    (["mcp", "--transport", "streamable-http", "--host", "a..b"], "--host: not a host name"),
    (["mcp", "--port", "9" * 30], "--port must be within 1 and 65535"),
    (["run", SURROGATE + ".py"], "no such script"),
]


def contents(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("argv", "message"), ROWS, ids=[" ".join(r[0])[:60] for r in ROWS])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODOMYRMEX_PERF_TELEMETRY_DIR", str(tmp_path / "telemetry"))
    before = contents(tmp_path)
    assert main(argv) == 2
    err = capfd.readouterr().err
    error_lines = [
        line for line in err.splitlines() if not line.startswith("codomyrmex-perf: warning:")
    ]
    assert len(error_lines) == 1, err
    assert error_lines[0].startswith(f"codomyrmex-perf: error: {message.format(d=tmp_path)}"), err
    assert "Traceback" not in err
    assert contents(tmp_path) == before


def test_a_json_line_nested_too_deeply_is_named_in_the_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "traces.jsonl").write_text("[" * 100_000 + "\n", encoding="utf-8")
    assert main(["view", str(tmp_path), "-o", str(tmp_path / "page.html")]) == 2
    assert "traces.jsonl:1: JSON nested too deeply: skipped" in capsys.readouterr().err
