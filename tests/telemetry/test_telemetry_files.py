"""The embedded default's files: private (0700 directory, 0600 files), rotated by size with
a bounded number of backups, whole lines only, also with several processes writing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from harness.subprocesses import run_python

SPANS = """
from codomyrmex.performance import configure_telemetry
from codomyrmex.performance.telemetry import scope_telemetry
handle = configure_telemetry("files", **OPTIONS)
tracer = scope_telemetry().tracer()
for index in range(COUNT):
    tracer.start_span(f"span-{index:05d}", attributes={"padding": "x" * 200}).end()
    if index % 20 == 19:
        handle.force_flush()
print(handle.shutdown(), handle.stats())
"""


def run_spans(env: dict[str, str], count: int, **options: object) -> str:
    code = SPANS.replace("OPTIONS", repr(options)).replace("COUNT", str(count))
    result = run_python(code, env={"OTEL_METRICS_EXPORTER": "none", **env})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout.strip()


def span_names(path: Path) -> list[str]:
    return [
        span["name"]
        for line in path.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_directory_0700_and_files_0600_whatever_the_umask(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "telemetry"
    result = run_python(
        "import os\nos.umask(0)\n" + SPANS.replace("OPTIONS", "{}").replace("COUNT", "3"),
        env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(directory)},
    )
    assert result.returncode == 0, result.stderr
    assert mode(directory) == 0o700
    assert mode(directory.parent) == 0o700
    assert mode(directory / "traces.jsonl") == 0o600
    assert mode(directory / "metrics.jsonl") == 0o600


def test_rotation_keeps_the_newest_spans_in_a_bounded_number_of_files(tmp_path: Path) -> None:
    out = run_spans(
        {"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)},
        600,
        output_max_megabytes=0.05,
        output_max_backups=2,
    )
    assert out == "True TelemetryStats(ended=600, exported=600, failed=0, dropped=0)"
    names = sorted(os.listdir(tmp_path))
    assert names == ["traces.jsonl", "traces.jsonl.1", "traces.jsonl.2"]
    limit = int(0.05 * 1024 * 1024)
    kept: list[str] = []
    for name in ("traces.jsonl.2", "traces.jsonl.1", "traces.jsonl"):
        path = tmp_path / name
        assert mode(path) == 0o600
        assert path.stat().st_size <= limit  # rotated before a line would pass the limit
        kept += span_names(path)
    assert kept == [f"span-{index:05d}" for index in range(600 - len(kept), 600)]
    assert 100 < len(kept) < 600


def test_zero_backups_starts_afresh(tmp_path: Path) -> None:
    run_spans(
        {"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)},
        200,
        output_max_megabytes=0.02,
        output_max_backups=0,
    )
    assert os.listdir(tmp_path) == ["traces.jsonl"]
    assert span_names(tmp_path / "traces.jsonl")[-1] == "span-00199"


def test_rotation_from_the_environment(tmp_path: Path) -> None:
    run_spans(
        {
            "CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path),
            "CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES": "0.02",
            "CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS": "1",
        },
        300,
    )
    assert sorted(os.listdir(tmp_path)) == ["traces.jsonl", "traces.jsonl.1"]


def test_bad_rotation_variables_are_one_warning_each_and_the_defaults(tmp_path: Path) -> None:
    result = run_python(
        SPANS.replace("OPTIONS", "{}").replace("COUNT", "5"),
        env={
            "CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path),
            "CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES": "nan",
            "CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS": "99999999999999999999",
            "OTEL_METRICS_EXPORTER": "none",
        },
    )
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2, result.stderr
    assert "CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES='nan'" in warnings[0]
    assert "CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS='99999999999999999999'" in warnings[1]
    assert all("default" in warning for warning in warnings)
    assert os.listdir(tmp_path) == ["traces.jsonl"]


def test_processes_sharing_the_directory_write_whole_lines(tmp_path: Path) -> None:
    result = run_python(
        """
import multiprocessing
from codomyrmex.performance import configure_telemetry
from codomyrmex.performance.telemetry import scope_telemetry

def emit(worker):
    tracer = scope_telemetry().tracer()
    for index in range(150):
        tracer.start_span(f"w{worker}-{index}", attributes={"padding": "y" * 300}).end()

if __name__ == "__main__":
    handle = configure_telemetry("shared", output_max_megabytes=0.05, output_max_backups=50)
    fork = multiprocessing.get_context("fork")
    workers = [fork.Process(target=emit, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    emit("parent")
    for worker in workers:
        worker.join(60)
    print(handle.shutdown(), [worker.exitcode for worker in workers])
""",
        env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path), "OTEL_METRICS_EXPORTER": "none",
             "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "16"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True [0, 0, 0, 0]"
    names: list[str] = []
    for path in tmp_path.iterdir():
        names += span_names(path)  # every line parses: no interleaved writes
    assert len(names) == 5 * 150 and len(set(names)) == 5 * 150


def test_a_directory_removed_mid_run_is_reported_once_and_counted(tmp_path: Path) -> None:
    directory = tmp_path / "telemetry"
    result = run_python(
        f"""
import shutil
from codomyrmex.performance import configure_telemetry
from codomyrmex.performance.telemetry import scope_telemetry
handle = configure_telemetry("vanishing")
shutil.rmtree({str(directory)!r})
tracer = scope_telemetry().tracer()
for index in range(3):
    tracer.start_span("lost").end()
    handle.force_flush()
print(handle.shutdown(), handle.stats())
""",
        env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(directory), "OTEL_METRICS_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True TelemetryStats(ended=3, exported=0, failed=3, dropped=0)"
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert f"writing spans to {directory / 'traces.jsonl'} failed" in lines[0]
    assert "FileNotFoundError" in lines[0]
    assert "3 span(s) were not delivered" in lines[1]
