"""``codomyrmex-perf run``: the report it prints, with stderr captured (not a terminal)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("codomyrmex-perf")

PAINTER = """
from codomyrmex.performance import cached_function, lazy_import, monitor

colorsys = lazy_import("colorsys")


@cached_function(name="palette-cache")
def to_hsv(red, green, blue):
    return colorsys.rgb_to_hsv(red, green, blue)


@monitor
def paint_the_whole_canvas_in_muted_colours(size):
    return [to_hsv(index % 3 / 3, 0.5, 0.5) for index in range(size)]


paint_the_whole_canvas_in_muted_colours(30)
print("painted")
"""


def perf_run(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """``codomyrmex-perf run`` with no OTEL_* variables and no COLUMNS (unless given in
    ``extra_env``), output captured."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_") and key not in ("COLUMNS", "LINES")
    }
    env["CODOMYRMEX_PERF_TELEMETRY_DIR"] = str(tmp_path / "telemetry")
    env.update(extra_env)
    return subprocess.run(
        [str(SCRIPT), "run", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


@pytest.fixture
def painter(tmp_path: Path) -> Path:
    script = tmp_path / "painter.py"
    script.write_text(textwrap.dedent(PAINTER))
    return script


def report_rows(stderr: str) -> list[str]:
    return [line.strip("│┃ ").split("│")[0].strip() for line in stderr.splitlines()]


@pytest.mark.parametrize("columns", [None, "40"])
def test_function_names_appear_whole_when_stderr_is_not_a_terminal(
    painter: Path, tmp_path: Path, columns: str | None
) -> None:
    result = perf_run(tmp_path, str(painter), **({"COLUMNS": columns} if columns else {}))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "painted\n"
    assert "Slowest functions" in result.stderr
    rows = report_rows(result.stderr)
    assert "__main__.paint_the_whole_canvas_in_muted_colours" in rows, result.stderr


def test_report_shows_caches_lazy_imports_and_peak_memory(painter: Path, tmp_path: Path) -> None:
    result = perf_run(tmp_path, str(painter))
    assert result.returncode == 0, result.stderr
    stderr = result.stderr
    assert "Caches" in stderr
    cache_row = next(line for line in stderr.splitlines() if "palette-cache" in line)
    cells = [cell.strip() for cell in cache_row.strip("│ ").split("│")]
    assert cells[:4] == ["palette-cache", "27", "3", "90%"], cache_row  # hits, misses, rate
    assert "Lazy imports" in stderr
    assert any(row == "colorsys" for row in report_rows(stderr)), stderr
    memory = next(line for line in stderr.splitlines() if "peak memory (RSS)" in line)
    assert " MiB (" in memory and float(memory.split("MiB")[0].split()[-1]) > 1.0, memory


def test_the_report_ends_by_pointing_at_the_view_of_the_files_it_wrote(
    painter: Path, tmp_path: Path, rejecting_endpoint: str
) -> None:
    result = perf_run(tmp_path, str(painter))
    assert result.returncode == 0, result.stderr
    assert f"  file: {tmp_path / 'telemetry' / 'traces.jsonl'}" in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1] == "view it: codomyrmex-perf view"
    sent = perf_run(tmp_path, "--otlp", rejecting_endpoint, str(painter))
    assert sent.returncode == 0, sent.stderr
    assert "Slowest functions" in sent.stderr and "view it" not in sent.stderr  # no files


class _Rejecting(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that refuses every export (400: not retried)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def rejecting_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Rejecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("command", ["run", "demo", "bench"])
def test_lost_spans_are_reported_once_with_the_reason(
    painter: Path, tmp_path: Path, rejecting_endpoint: str, command: str
) -> None:
    """An endpoint that answers but refuses OTLP: the same for every command."""
    suite = tmp_path / "bench_quick.py"
    suite.write_text(
        "from codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('quick')\nsuite.add(lambda: None, name='noop')\n"
    )
    arguments = {
        "run": ["run", "--otlp", rejecting_endpoint, str(painter)],
        "demo": ["demo", "--otlp", rejecting_endpoint],
        "bench": ["bench", str(suite), "--otlp", rejecting_endpoint, "--in-process",
                  "--rounds", "3", "--min-time", "0.001", "--no-progress"],
    }[command]  # fmt: skip
    result = _perf(tmp_path, arguments)
    assert result.returncode == 0, result.stderr  # losing telemetry is not the job failing
    text = result.stdout + result.stderr
    assert len([line for line in text.splitlines() if "lost" in line]) == 1, text
    assert "were not delivered" not in text  # the handle's summary: the report has the count
    assert text.count("Failed to export spans batch code: 400") == 1, text  # the reason, once
    assert not any(line.startswith("codomyrmex-perf: ") for line in text.splitlines())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "--otlp", "URL", "SCRIPT"],
        ["demo", "--otlp", "URL"],
        ["mcp", "--otlp", "URL"],
    ],
)
def test_unreachable_otlp_option_is_bad_input_exit_2_for_every_command(
    painter: Path, tmp_path: Path, arguments: list[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    command = [{"URL": url, "SCRIPT": str(painter)}.get(part, part) for part in arguments]
    result = perf_run(tmp_path, *command[1:]) if command[0] == "run" else _perf(tmp_path, command)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"codomyrmex-perf: error: cannot reach the OTLP endpoint {url} (Connection refused)"
    ]


def test_unreachable_per_signal_endpoint_in_the_environment_is_exit_2(
    painter: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/metrics"
    result = perf_run(tmp_path, str(painter), OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=url)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"codomyrmex-perf: error: cannot reach the OTLP endpoint {url} (")


def _perf(tmp_path: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["CODOMYRMEX_PERF_TELEMETRY_DIR"] = str(tmp_path / "telemetry")
    return subprocess.run(
        [str(SCRIPT), *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_a_syntax_error_shows_as_python_shows_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\ndef (:\n")
    python = subprocess.run(
        [sys.executable, str(broken)], capture_output=True, text=True, timeout=60
    )
    result = perf_run(tmp_path, str(broken))
    assert result.returncode == python.returncode == 1
    assert result.stderr.startswith(python.stderr)  # then the report
    assert "runpy" not in result.stderr and "codomyrmex" not in python.stderr


def test_a_directory_runs_its_main_module_as_python_does(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "helper.py").write_text("WORD = 'imported from the directory'\n")
    (app / "__main__.py").write_text(
        "import sys\nfrom helper import WORD\nprint(WORD, sys.argv[1:], __name__)\n"
    )
    result = perf_run(tmp_path, str(app), "--flag")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "imported from the directory ['--flag'] __main__\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "run needs a program: codomyrmex-perf run [options] script.py [args ...]"),
        (
            ["--otlp", "http://127.0.0.1:9"],
            "run needs a program: codomyrmex-perf run [options] script.py [args ...]",
        ),
        (["no_such_script.py"], "no such script: no_such_script.py"),
        (["empty_dir"], "cannot run empty_dir: a directory without a __main__.py"),
    ],
)
def test_nothing_to_run_is_one_line_and_exit_2(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    (tmp_path / "empty_dir").mkdir()
    result = perf_run(tmp_path, *arguments)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"codomyrmex-perf: error: {message}"]
    assert not (tmp_path / "telemetry").exists()


def test_instrument_warnings_name_the_option(painter: Path, tmp_path: Path) -> None:
    result = perf_run(tmp_path, "--instrument", "no_such_module:f,not an entry", str(painter))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert warnings == [
        "codomyrmex.performance: --instrument entry 'not an entry' skipped: expected "
        "'pkg.module:function', 'pkg.module:Class.method' or 'pkg.module:*'",
        "codomyrmex.performance: --instrument entry 'no_such_module:f' skipped: "
        "module 'no_such_module' not found",
    ]
    from_variable = perf_run(tmp_path, str(painter), CODOMYRMEX_PERF_INSTRUMENT="nowhere:f")
    assert "CODOMYRMEX_PERF_INSTRUMENT entry 'nowhere:f' skipped" in from_variable.stderr


def test_blocks_tracked_by_the_program_are_reported_apart_from_functions(
    tmp_path: Path,
) -> None:
    script = tmp_path / "blocks.py"
    script.write_text(
        textwrap.dedent(
            """
            from codomyrmex.performance import monitor
            from codomyrmex.performance.performance_monitor import default_monitor

            @monitor
            def load_one_customer_record(index):
                return index * 2

            with default_monitor().track("nightly-import-of-customers"):
                [load_one_customer_record(index) for index in range(5)]
            """
        )
    )
    result = perf_run(tmp_path, str(script))
    assert result.returncode == 0, result.stderr
    functions, _, blocks = result.stderr.partition("Tracked blocks")
    assert blocks, result.stderr
    assert "nightly-import-of-customers" in report_rows(blocks)
    assert "nightly-import-of-customers" not in functions
    assert "__main__.load_one_customer_record" in report_rows(functions)
