"""PerformanceInstrumentor under the real ``opentelemetry-instrument`` agent (subprocesses)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from codomyrmex.performance.telemetry import SCOPE_NAME
from harness.otel_collector import OtelCollector

AGENT = Path(sys.executable).with_name("opentelemetry-instrument")

CART = """
def add(a, b):
    return a + b


class Cart:
    def __init__(self, items):
        self.items = list(items)

    def total(self):
        return sum(self.items)

    @classmethod
    def empty(cls):
        return cls([])
"""

LATE = """
def work():
    return "late"


def _helper():
    return "private"
"""

# The app knows nothing about codomyrmex: it only makes a root span of its own so that the
# tests can check where the instrumented calls sit in the trace.
APP = """
from opentelemetry import trace

from shop import cart

with trace.get_tracer("app").start_as_current_span("app-root"):
    assert cart.add(1, 2) == 3
    basket = cart.Cart.empty()
    assert basket.total() == 0
    import shop.late  # imported after start-up: wrapped by the post-import hook

    assert shop.late.work() == "late"
    assert shop.late._helper() == "private"
print("app finished")
"""

TARGETS = "shop.cart:add,shop.cart:Cart.total,shop.cart:Cart.empty,shop.late:*"


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "cart.py").write_text(textwrap.dedent(CART))
    (tmp_path / "shop" / "late.py").write_text(textwrap.dedent(LATE))
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    return tmp_path


def run_agent(
    app_dir: Path, *agent_options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``opentelemetry-instrument [options] python app.py`` with a clean OTEL_* environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CODOMYRMEX_"))}
    base.update({"OTEL_SERVICE_NAME": "agent-app", "OTEL_LOGS_EXPORTER": "none"})
    base.update(env or {})
    return subprocess.run(
        [str(AGENT), *agent_options, sys.executable, "app.py"],
        cwd=app_dir,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects the console exporters printed, in order (other lines skipped)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    index = 0
    while (start := text.find("{", index)) != -1:
        try:
            value, index = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def first_lines(source: str, module: str) -> dict[str, int]:
    """``co_firstlineno`` of each function in ``source`` (a decorator's line if decorated)."""
    lines: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}.{child.name}")
            elif isinstance(child, ast.FunctionDef) and not child.name.startswith("_"):
                decorators = [d.lineno for d in child.decorator_list]
                lines[f"{prefix}.{child.name}"] = min([child.lineno, *decorators])

    visit(ast.parse(textwrap.dedent(source)), module)
    return lines


def console_spans(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    spans = [o for o in json_objects(result.stdout) if "context" in o and "kind" in o]
    by_name = {span["name"]: span for span in spans}
    assert len(by_name) == len(spans), "one span per name expected"
    return by_name


def test_agent_wraps_listed_functions_without_code_changes(app_dir: Path) -> None:
    result = run_agent(
        app_dir,
        "--traces_exporter",
        "console",
        "--metrics_exporter",
        "none",
        env={"CODOMYRMEX_PERF_INSTRUMENT": TARGETS},
    )
    assert result.returncode == 0, result.stderr
    assert "app finished" in result.stdout
    spans = console_spans(result)
    assert set(spans) == {
        "app-root",
        "shop.cart.add",
        "shop.cart.Cart.empty",
        "shop.cart.Cart.total",
        "shop.late.work",  # '*' takes public functions only: no shop.late._helper
    }
    root_id = spans["app-root"]["context"]["span_id"]
    cart = app_dir / "shop" / "cart.py"
    for name, line in first_lines(CART, "shop.cart").items():
        span = spans[name]
        assert span["kind"] == "SpanKind.INTERNAL"
        assert span["parent_id"] == root_id
        assert span["status"]["status_code"] == "UNSET"
        assert span["attributes"] == {
            "code.function.name": name,
            "code.file.path": str(cart),
            "code.line.number": line,
        }
        assert span["resource"]["attributes"]["service.name"] == "agent-app"
    assert spans["shop.late.work"]["attributes"]["code.file.path"] == str(
        app_dir / "shop" / "late.py"
    )


def test_agent_reports_duration_histogram_and_system_metrics(app_dir: Path) -> None:
    result = run_agent(
        app_dir,
        "--traces_exporter",
        "none",
        "--metrics_exporter",
        "console",
        env={"CODOMYRMEX_PERF_INSTRUMENT": "shop.cart:add"},
    )
    assert result.returncode == 0, result.stderr
    scopes: dict[str, dict[str, Any]] = {}
    for batch in json_objects(result.stdout):
        for resource_metrics in batch.get("resource_metrics", []):
            for scope_metrics in resource_metrics["scope_metrics"]:
                metrics = {m["name"]: m for m in scope_metrics["metrics"]}
                scopes.setdefault(scope_metrics["scope"]["name"], {}).update(metrics)
    duration = scopes[SCOPE_NAME]["codomyrmex.function.duration"]
    assert duration["unit"] == "s"
    (point,) = duration["data"]["data_points"]
    assert point["attributes"] == {"code.function.name": "shop.cart.add"}
    assert point["count"] == 1
    # Process metrics come from opentelemetry-instrumentation-system-metrics' own entry point.
    system = scopes["opentelemetry.instrumentation.system_metrics"]
    assert {"process.cpu.time", "process.memory.usage", "process.thread.count"} <= set(system)


def test_agent_skips_it_when_disabled_by_environment(app_dir: Path) -> None:
    result = run_agent(
        app_dir,
        "--traces_exporter",
        "console",
        "--metrics_exporter",
        "none",
        env={
            "CODOMYRMEX_PERF_INSTRUMENT": TARGETS,
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "system_metrics, codomyrmex_performance",
        },
    )
    assert result.returncode == 0, result.stderr
    assert set(console_spans(result)) == {"app-root"}


def test_agent_warns_once_per_bad_entry_and_the_app_runs(app_dir: Path) -> None:
    bad = [
        "shop.cart",
        "shop.cart:add(",
        "shop.missing:add",
        "nosuchpackage.cart:add",
        "shop.cart:Nope",
        "shop.cart:Cart.nope",
    ]
    result = run_agent(
        app_dir,
        "--traces_exporter",
        "console",
        "--metrics_exporter",
        "none",
        env={"CODOMYRMEX_PERF_INSTRUMENT": ",".join([*bad, "shop.cart:add"])},
    )
    assert result.returncode == 0, result.stderr
    assert "app finished" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "CODOMYRMEX_PERF_INSTRUMENT" in line]
    assert len(warnings) == len(bad), result.stderr
    for entry in bad:
        assert sum(f"entry {entry!r} skipped" in line for line in warnings) == 1, entry
    assert set(console_spans(result)) == {"app-root", "shop.cart.add"}


def test_agent_spans_reach_a_real_collector_over_otlp(
    app_dir: Path, otel_collector: OtelCollector
) -> None:
    service = "agent-app-otlp"
    result = run_agent(
        app_dir,
        env={
            "CODOMYRMEX_PERF_INSTRUMENT": TARGETS,
            "OTEL_SERVICE_NAME": service,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otel_collector.grpc_endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        },
    )
    assert result.returncode == 0, result.stderr
    got = otel_collector.wait_for(
        lambda t: (
            t if len(t.spans) >= 5 and t.points_named("codomyrmex.function.duration") else None
        ),
        service_name=service,
    )
    assert got.span_names() == {
        "app-root",
        "shop.cart.add",
        "shop.cart.Cart.empty",
        "shop.cart.Cart.total",
        "shop.late.work",
    }
    (add,) = got.spans_named("shop.cart.add")
    assert add.kind == "INTERNAL"
    assert add.scope_name == SCOPE_NAME
    assert add.attributes["code.function.name"] == "shop.cart.add"
    (root,) = got.spans_named("app-root")
    assert add.parent_span_id == root.span_id
    names = {
        p.attributes.get("code.function.name")
        for p in got.points_named("codomyrmex.function.duration")
    }
    assert names == {
        "shop.cart.add",
        "shop.cart.Cart.empty",
        "shop.cart.Cart.total",
        "shop.late.work",
    }
