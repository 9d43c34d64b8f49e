"""``codomyrmex-perf``: the demo end to end (report, OTLP files, a real collector), bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.otel_collector import OtelCollector
from harness.subprocesses import run_python
from harness.terminal import first_column

SCRIPT = Path(sys.executable).with_name("codomyrmex-perf")
DEMO = "codomyrmex.performance.cli._workload"
DEMO_SPANS = {
    f"{DEMO}.parse_order",
    f"{DEMO}.load_batch",
    f"{DEMO}.fetch_exchange_rate",
    f"{DEMO}.price_orders",
    f"{DEMO}.charge_card",
    f"{DEMO}.receipt_lines",
    f"{DEMO}.build_sales_index",
    f"{DEMO}.lookup_price",
    f"{DEMO}.save_receipts",
    f"{DEMO}.checkout",
    "demo.workload",
}


def clean_env(**extra: str) -> dict[str, str]:
    """The test environment without any OTEL_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.pop("CODOMYRMEX_PERF_TELEMETRY_DIR", None)
    env.update(extra)
    return env


def perf(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        timeout=120,
    )


@dataclass
class DemoRun:
    result: subprocess.CompletedProcess[str]
    directory: Path

    def lines(self, name: str) -> list[dict[str, Any]]:
        text = (self.directory / name).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]

    def spans(self) -> list[dict[str, Any]]:
        return [
            span
            for request in self.lines("traces.jsonl")
            for resource_spans in request["resourceSpans"]
            for scope_spans in resource_spans["scopeSpans"]
            for span in scope_spans["spans"]
        ]

    def metrics(self) -> list[dict[str, Any]]:
        return [
            metric
            for request in self.lines("metrics.jsonl")
            for resource_metrics in request["resourceMetrics"]
            for scope_metrics in resource_metrics["scopeMetrics"]
            for metric in scope_metrics["metrics"]
        ]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    directory = tmp_path_factory.mktemp("telemetry") / "nested" / "dir"
    result = perf("demo", env=clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(directory)))
    return DemoRun(result, directory)


def attribute(item: dict[str, Any], key: str) -> Any:
    for entry in item.get("attributes", []):
        if entry["key"] == key:
            return next(iter(entry["value"].values()))
    return None


def test_demo_succeeds_quietly(demo_run: DemoRun) -> None:
    assert demo_run.result.returncode == 0, demo_run.result.stderr
    assert demo_run.result.stderr == ""


def row(out: str, name: str) -> list[str]:
    """The cells of the table line whose first cell is ``name``."""
    line = next(line for line in out.splitlines() if line.split("│")[0].strip() == name)
    return [cell.strip() for cell in line.split("│")]


def test_demo_report_shows_slowest_functions_memory_and_destination(demo_run: DemoRun) -> None:
    out = demo_run.result.stdout
    functions, blocks = out.split("Tracked blocks")
    title = f"Slowest functions (by total time), in {DEMO}"  # the module every name shares
    assert title in [line.rstrip() for line in functions.splitlines()]
    for name in ("checkout", "fetch_exchange_rate", "parse_order", "charge_card"):
        assert name in first_column(functions)
    assert row(functions, "charge_card")[1:3] == ["80", "1"]  # calls, errors
    assert "demo.workload" not in functions  # a block: its total holds every call
    assert row(blocks, "demo.workload")[1:3] == ["1", "0"]
    assert "peak memory (RSS)" in out
    hits, misses, rate = row(out, "demo.catalog")[1:4]
    assert int(hits) > 0 and int(misses) > 0 and rate.endswith("%")
    assert "demo.exchange_rates" in first_column(out)
    for module in ("sqlite3", "difflib"):
        assert module in first_column(out)
    assert "kernel high-water mark" in out
    assert f"sent to: {demo_run.directory}" in out
    assert str(demo_run.directory / "traces.jsonl") in out
    assert "lost" not in out


def test_demo_spans_reach_the_trace_file(demo_run: DemoRun) -> None:
    spans = demo_run.spans()
    names = {span["name"] for span in spans}
    assert names >= DEMO_SPANS
    (service,) = {
        attribute(resource_spans["resource"], "service.name")
        for request in demo_run.lines("traces.jsonl")
        for resource_spans in request["resourceSpans"]
    }
    assert service == "codomyrmex-perf-demo"
    declined = [
        s
        for s in spans
        if s["name"] == f"{DEMO}.charge_card"
        and s.get("status", {}).get("code") == "STATUS_CODE_ERROR"
    ]
    assert len(declined) == 1
    assert attribute(declined[0], "error.type").endswith("PaymentDeclined")
    (workload,) = [s for s in spans if s["name"] == "demo.workload"]
    assert attribute(workload, "codomyrmex.resource.peak_rss_mb") > 40
    assert len([s for s in spans if s["name"] == f"{DEMO}.fetch_exchange_rate"]) == 3  # cached
    assert {"import sqlite3", "import difflib"} <= names


def test_demo_metrics_reach_the_metrics_file(demo_run: DemoRun) -> None:
    durations = [m for m in demo_run.metrics() if m["name"] == "codomyrmex.function.duration"]
    assert durations and all(m["unit"] == "s" for m in durations)
    parse_points = [
        point
        for metric in durations
        for point in metric["histogram"]["dataPoints"]
        if attribute(point, "code.function.name") == f"{DEMO}.parse_order"
    ]
    assert parse_points
    assert max(int(point["count"]) for point in parse_points) == 160
    names = {m["name"] for m in demo_run.metrics()}
    assert {"codomyrmex.cache.requests", "codomyrmex.import.duration"} <= names


def test_demo_json_output(tmp_path: Path) -> None:
    result = perf("demo", "--json", env=clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    functions = {f["name"]: f for f in data["functions"]}
    assert set(functions) == DEMO_SPANS - {"demo.workload"}
    assert [b["name"] for b in data["blocks"]] == ["demo.workload"]
    assert functions[f"{DEMO}.charge_card"]["errors"] == 1
    totals = [f["total"] for f in data["functions"]]
    assert totals == sorted(totals, reverse=True)
    assert data["resources"]["peak_rss_mb"] > data["resources"]["start_rss_mb"] + 40
    assert {c["name"] for c in data["caches"]} == {"demo.catalog", "demo.exchange_rates"}
    assert {i["module"] for i in data["imports"]} == {"sqlite3", "difflib"}
    assert data["telemetry"]["destination"] == str(tmp_path)
    assert data["telemetry"]["spans_exported"] == data["telemetry"]["spans_ended"] > 0


def test_demo_sends_to_a_collector_with_otlp(otel_collector: OtelCollector, tmp_path: Path) -> None:
    result = perf(
        "demo",
        "--otlp",
        otel_collector.http_endpoint,
        env=clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path / "unused")),
    )
    assert result.returncode == 0, result.stderr
    assert f"sent to: {otel_collector.http_endpoint}" in result.stdout
    assert not (tmp_path / "unused").exists()
    received = otel_collector.wait_for(
        lambda t: t if t.spans_named(f"{DEMO}.checkout") else None,
        service_name="codomyrmex-perf-demo",
    )
    assert received.span_names() >= DEMO_SPANS
    assert received.points_named("codomyrmex.function.duration")


# bad input: one line on stderr, no traceback


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("codomyrmex-perf: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("demo", "--bogus"), "unrecognized arguments: --bogus"),
        (("--bogus",), "required: COMMAND"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        ((), "required"),
        (("demo", "--otlp"), "expected one argument"),
        (("demo", "--otlp", "ftp://collector:4318"), "http:// or https://"),
        (("demo", "--otlp", "http://collector:port"), "not a valid URL"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], expected: str, tmp_path: Path) -> None:
    result = perf(*args, env=clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path / "t")))
    assert expected in assert_one_error_line(result, 2)
    assert result.stdout == ""
    assert not (tmp_path / "t").exists()


def test_unreachable_endpoint_fails_before_the_work(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    for args, env in [
        (("demo", "--otlp", url), clean_env()),
        (("demo",), clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=url)),
    ]:
        result = perf(*args, env={**env, "CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)})
        line = assert_one_error_line(result, 2)
        assert f"cannot reach the OTLP endpoint {url}" in line
        assert result.stdout == ""


def test_missing_rich_names_the_cli_extra_and_json_still_works(tmp_path: Path) -> None:
    code = """
        import sys
        sys.modules["rich"] = None  # as if the cli extra were not installed
        from codomyrmex.performance.cli import main
        sys.exit(main(ARGS))
        """
    env = clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path / "t"))
    result = run_python(code.replace("ARGS", "['demo']"), env=env)
    line = assert_one_error_line(result, 2)
    assert "pip install 'codomyrmex-performance[cli]'" in line
    assert not (tmp_path / "t").exists()
    result = run_python(code.replace("ARGS", "['demo', '--json']"), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["telemetry"]["destination"] == str(tmp_path / "t")


def test_run_without_the_instrument_extra_names_it(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text("print('ran')\n")
    code = f"""
        import sys
        sys.modules["opentelemetry.instrumentation"] = None  # the instrument extra is missing
        from codomyrmex.performance.cli import main
        sys.exit(main(["run", {str(script)!r}]))
        """
    env = clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path / "t"))
    line = assert_one_error_line(run_python(code, env=env), 2)
    assert "pip install 'codomyrmex-performance[instrument]'" in line


def test_unexpected_error_is_one_line_unless_traceback_is_asked(tmp_path: Path) -> None:
    code = """
        import sys
        import codomyrmex.performance.cli._workload as demo
        def broken(**kwargs):
            raise ZeroDivisionError("boom")
        demo.run_workload = broken
        from codomyrmex.performance.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    env = clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path))
    result = run_python(code.replace("sys.argv[1:]", "['demo']"), env=env)
    line = assert_one_error_line(result, 1)
    assert "ZeroDivisionError: boom" in line and "--traceback" in line
    for argv in ("['--traceback', 'demo']", "['demo', '--traceback']"):
        result = run_python(code.replace("sys.argv[1:]", argv), env=env)
        assert result.returncode == 1
        assert "Traceback" in result.stderr and "ZeroDivisionError: boom" in result.stderr


def test_help_and_version() -> None:
    result = perf("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout
    result = perf("demo", "--help")
    assert result.returncode == 0
    assert "--otlp URL" in result.stdout and "--json" in result.stdout
    result = perf("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("codomyrmex-perf ")
