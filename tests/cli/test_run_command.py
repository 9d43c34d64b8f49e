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


def test_lost_spans_are_reported_once_in_the_report(
    painter: Path, tmp_path: Path, rejecting_endpoint: str
) -> None:
    result = perf_run(tmp_path, "--otlp", rejecting_endpoint, str(painter))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    # The handle's own warning at shutdown, then the report's line; no third one from run.
    assert [line for line in lines if "were not delivered" in line] == [
        f"codomyrmex.performance: 2 span(s) were not delivered to {rejecting_endpoint} "
        "(http/protobuf) (queue full or exporter failing)"
    ], result.stderr
    assert [line for line in lines if "lost" in line] == [
        "  2 span(s) lost: 0 dropped (queue full), 2 failed to export"
    ], result.stderr
    assert not any(line.startswith("codomyrmex-perf: warning") for line in lines)


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
