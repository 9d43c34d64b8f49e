"""The examples run as documented, against a real collector, and `codomyrmex-perf run` works.

Each example runs in a fresh interpreter with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at
the collector fixture; the test then checks what the collector received.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.otel_collector import OtelCollector
from harness.redis_server import RedisServer
from harness.rotel_debug_log import Telemetry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(
    command: list[str], collector: OtelCollector, *, protocol: str = "http/protobuf", **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint(protocol),
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "COLUMNS": "160",
        **env,
    }
    return subprocess.run(
        command, capture_output=True, text=True, env=full_env, timeout=180, cwd=command_dir(command)
    )


def command_dir(command: list[str]) -> str | None:
    scripts = [part for part in command if part.endswith(".py")]
    return str(Path(scripts[0]).parent) if scripts else None


def python(script: str) -> list[str]:
    return [sys.executable, str(EXAMPLES / script)]


def test_quickstart(otel_collector: OtelCollector, tmp_path: Path) -> None:
    result = run(python("quickstart.py"), otel_collector, protocol="grpc", TMPDIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "exported 103 calls as JSON" in result.stdout
    destination = f"{otel_collector.endpoint('grpc')} (grpc)"
    assert result.stdout.splitlines()[-1] == (
        f"<TelemetryHandle shut down destination={destination!r} spans: "
        "103 ended, 103 exported, 0 failed, 0 dropped>"
    )
    assert list(tmp_path.iterdir()) == []  # no temporary file or directory left behind
    got: Telemetry = otel_collector.wait_for(
        lambda t: t if t.latest_points("codomyrmex.function.duration") else None,
        service_name="quickstart",
    )
    assert len(got.spans_named("__main__.parse")) == 101
    (fetch,) = got.spans_named("quickstart.fetch")
    assert fetch.attributes["peer.service"] == "inventory"
    assert got.spans_named("quickstart.batch")[0].attributes["items"] == 3
    (parse,) = got.latest_points(
        "codomyrmex.function.duration", code__function__name="__main__.parse"
    )
    assert parse.count == 101


def test_caching_in_memory_and_redis(
    otel_collector: OtelCollector, redis_server: RedisServer
) -> None:
    result = run([*python("caching.py"), redis_server.url], otel_collector)
    assert result.returncode == 0, result.stderr
    assert "CacheInfo(hits=1, misses=4, maxsize=2, currsize=2)" in result.stdout
    assert "redis: 1.08 None" in result.stdout
    got: Telemetry = otel_collector.wait_for(
        lambda t: (
            t
            if t.latest_points("codomyrmex.cache.requests", codomyrmex__cache__name="shared-rates")
            else None
        ),
        service_name="caching-example",
    )

    def count(cache: str, outcome: str) -> float | None:
        (point,) = got.latest_points(
            "codomyrmex.cache.requests",
            codomyrmex__cache__name=cache,
            codomyrmex__cache__result=outcome,
        )
        return point.value

    assert (count("prices", "hit"), count("prices", "miss")) == (1, 4)
    assert (count("shared-rates", "hit"), count("shared-rates", "miss")) == (1, 1)
    (evicted,) = got.latest_points(
        "codomyrmex.cache.evictions",
        codomyrmex__cache__name="prices",
        codomyrmex__cache__reason="size",
    )
    assert evicted.value == 2


def test_lazy_loading(otel_collector: OtelCollector) -> None:
    result = run(python("lazy_loading.py"), otel_collector)
    assert result.returncode == 0, result.stderr
    assert "sum: 0.3" in result.stdout
    got: Telemetry = otel_collector.wait_for(
        lambda t: t if t.spans_named("import decimal") else None,
        service_name="lazy-loading-example",
    )
    assert got.spans_named("import decimal")[0].attributes == {"codomyrmex.module.name": "decimal"}


def test_benchmark_to_otlp(otel_collector: OtelCollector) -> None:
    result = run(python("benchmark_to_otlp.py"), otel_collector, protocol="grpc")
    assert result.returncode == 0, result.stderr
    got: Telemetry = otel_collector.wait_for(
        lambda t: t if len(t.latest_points("codomyrmex.benchmark.duration")) == 2 else None,
        service_name="benchmark-example",
    )
    (root,) = got.spans_named("benchmark string-building")
    children = [span for span in got.spans if span.parent_span_id == root.span_id]
    assert sorted(span.name for span in children) == [
        "benchmark string-building.concatenate",
        "benchmark string-building.join",
    ]


def test_auto_instrumentation_with_opentelemetry_instrument(otel_collector: OtelCollector) -> None:
    agent = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert agent, "the instrument extra provides opentelemetry-instrument"
    result = run(
        [agent, sys.executable, str(EXAMPLES / "auto_instrumentation" / "app.py")],
        otel_collector,
        CODOMYRMEX_PERF_INSTRUMENT="shop:add_item,shop:Cart.total",
        OTEL_SERVICE_NAME="shop-agent",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_LOGS_EXPORTER="none",
    )
    assert result.returncode == 0, result.stderr
    assert "total: 1.5" in result.stdout
    got: Telemetry = otel_collector.wait_for(
        lambda t: (
            t
            if len(t.spans_named("shop.add_item")) == 3 and t.spans_named("shop.Cart.total")
            else None
        ),
        service_name="shop-agent",
    )
    assert (
        got.spans_named("shop.Cart.total")[0].attributes["code.function.name"] == "shop.Cart.total"
    )


def test_auto_instrumentation_as_its_docstring_says(otel_collector: OtelCollector) -> None:
    """The first command of app.py's docstring, verbatim but for the collector's address."""
    doc = (EXAMPLES / "auto_instrumentation" / "app.py").read_text().split('"""')[1]
    block = doc.split("cd examples/auto_instrumentation\n", 1)[1].split("\n\n", 1)[0]
    words = shlex.split(re.sub(r"\\+\n", " ", block))  # the source writes \\ for \
    assignments = [word for word in words if re.match(r"[A-Z_]+=", word)]
    env = dict(word.split("=", 1) for word in assignments)
    command = words[len(assignments) :]
    assert command == ["opentelemetry-instrument", "python", "app.py"], command
    agent = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert agent
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = env["OTEL_EXPORTER_OTLP_ENDPOINT"].replace(
        "http://localhost:4318", otel_collector.http_endpoint
    )
    result = subprocess.run(
        [agent, sys.executable, "app.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES / "auto_instrumentation",
        env={**{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}, **env},
    )
    assert result.returncode == 0, result.stderr
    got: Telemetry = otel_collector.wait_for(
        lambda t: t if t.spans_named("shop.Cart.total") else None, service_name="shop"
    )
    assert len(got.spans_named("shop.add_item")) == 3


def perf(*arguments: str) -> list[str]:
    """The installed ``codomyrmex-perf`` console script."""
    script = shutil.which("codomyrmex-perf", path=str(Path(sys.executable).parent))
    assert script, "codomyrmex-perf is installed next to the interpreter"
    return [script, *arguments]


def test_run_command_instruments_a_program_and_reports(otel_collector: OtelCollector) -> None:
    app = str(EXAMPLES / "auto_instrumentation" / "app.py")
    command = perf(
        "run", "--otlp", otel_collector.http_endpoint, "--instrument", "shop:add_item", app
    )
    result = run(command, otel_collector)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "total: 1.5"  # the program's output, untouched
    assert "shop.add_item" in result.stderr  # the report, on stderr
    assert "Slowest functions" in result.stderr
    got: Telemetry = otel_collector.wait_for(
        lambda t: t if len(t.spans_named("shop.add_item")) == 3 else None, service_name="app"
    )
    assert got.spans_named("shop.add_item")[0].service_name == "app"


def test_run_command_passes_exit_codes_and_failures_through(
    otel_collector: OtelCollector, tmp_path: Path
) -> None:
    script = tmp_path / "exits.py"
    script.write_text("import sys\nprint(sys.argv[1:])\nsys.exit(int(sys.argv[1]))\n")
    result = run(perf("run", str(script), "3", "--flag"), otel_collector)
    assert result.returncode == 3
    assert result.stdout.strip() == "['3', '--flag']"
    failing = tmp_path / "failing.py"
    failing.write_text("def boom():\n    raise ValueError('bad input')\nboom()\n")
    result = run(perf("run", str(failing)), otel_collector)
    assert result.returncode == 1
    assert "ValueError: bad input" in result.stderr
    assert 'File "' + str(failing) + '", line 3' in result.stderr
    assert "runpy" not in result.stderr
    assert "Slowest functions" in result.stderr or "Telemetry" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["run", "missing_script.py"], 2, "no such script: missing_script.py"),
        (["run", "--otlp", "http://127.0.0.1:9", "SCRIPT"], 2, "cannot reach the OTLP endpoint"),
    ],
)
def test_run_command_bad_input_is_one_line(
    otel_collector: OtelCollector, tmp_path: Path, arguments: list[str], code: int, message: str
) -> None:
    script = tmp_path / "ok.py"
    script.write_text("print('ran')\n")
    command = perf(*[str(script) if part == "SCRIPT" else part for part in arguments])
    result = run(command, otel_collector)
    assert result.returncode == code
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("codomyrmex-perf: error: ") and message in line
