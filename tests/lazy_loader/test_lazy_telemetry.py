"""lazy_import telemetry: ``import <module>`` spans, their nesting, the import histogram."""

from __future__ import annotations

import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance import lazy_import
from codomyrmex.performance.telemetry import DURATION_BUCKETS, SCOPE_NAME, package_version
from harness.metrics import MetricsProbe
from harness.subprocesses import run_python

IMPORT_METRIC = "codomyrmex.import.duration"
MODULE_ATTRIBUTE = "codomyrmex.module.name"


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("lazytel_"):
            del sys.modules[name]


def write_module(directory: Path, source: str = "", *, name: str | None = None) -> str:
    name = name or f"lazytel_{uuid.uuid4().hex[:10]}"
    (directory / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def import_spans(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name.startswith("import ")]


def test_real_import_is_one_internal_span_with_exact_attributes(
    module_dir: Path, spans: InMemorySpanExporter
) -> None:
    name = write_module(module_dir, "VALUE = 1\n")
    handle = lazy_import(name)
    assert import_spans(spans) == []
    assert handle.VALUE == 1
    assert handle.VALUE == 1
    (span,) = import_spans(spans)
    assert span.name == f"import {name}"
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes or {}) == {MODULE_ATTRIBUTE: name}
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == SCOPE_NAME
    assert span.instrumentation_scope.version == package_version()


def test_import_span_is_a_child_of_the_span_that_touched_the_handle(
    module_dir: Path, spans: InMemorySpanExporter
) -> None:
    name = write_module(module_dir, "VALUE = 1\n")
    handle = lazy_import(name)
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("caller") as caller:
        assert handle.VALUE == 1
    (span,) = import_spans(spans)
    assert span.parent is not None
    assert span.parent.span_id == caller.get_span_context().span_id
    assert span.context.trace_id == caller.get_span_context().trace_id


def test_lazy_imports_made_while_importing_are_nested(
    module_dir: Path, spans: InMemorySpanExporter
) -> None:
    inner = write_module(module_dir, "VALUE = 'inner'\n")
    outer = write_module(
        module_dir,
        f"""
        from codomyrmex.performance import lazy_import
        inner = lazy_import({inner!r})
        VALUE = inner.VALUE + '+outer'
        """,
    )
    assert lazy_import(outer).VALUE == "inner+outer"
    by_name = {s.name: s for s in import_spans(spans)}
    assert set(by_name) == {f"import {outer}", f"import {inner}"}
    outer_span, inner_span = by_name[f"import {outer}"], by_name[f"import {inner}"]
    assert inner_span.parent is not None
    assert inner_span.parent.span_id == outer_span.context.span_id
    assert outer_span.parent is None


def test_thread_race_emits_one_span_and_one_point(
    module_dir: Path, spans: InMemorySpanExporter, metric_probe: MetricsProbe
) -> None:
    name = write_module(module_dir, "import time\ntime.sleep(0.05)\nVALUE = 1\n")
    handle = lazy_import(name)
    barrier = threading.Barrier(20)

    def first_touch() -> None:
        barrier.wait()
        assert handle.VALUE == 1

    threads = [threading.Thread(target=first_touch) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(import_spans(spans)) == 1
    (point,) = metric_probe.points(IMPORT_METRIC, **{MODULE_ATTRIBUTE: name})
    assert point.point.count == 1


def test_import_duration_histogram_point(module_dir: Path, metric_probe: MetricsProbe) -> None:
    name = write_module(module_dir, "import time\ntime.sleep(0.01)\n")
    lazy_import(name).load()
    (point,) = metric_probe.points(IMPORT_METRIC, **{MODULE_ATTRIBUTE: name})
    assert point.unit == "s"
    assert point.scope == SCOPE_NAME
    assert point.scope_version == package_version()
    assert point.attributes == {MODULE_ATTRIBUTE: name}
    assert point.point.count == 1
    assert 0.01 <= point.point.sum < 5
    assert tuple(point.point.explicit_bounds) == DURATION_BUCKETS


def test_failed_import_marks_span_and_point_with_error_type(
    spans: InMemorySpanExporter, metric_probe: MetricsProbe
) -> None:
    name = f"lazytel_missing_{uuid.uuid4().hex[:8]}"
    handle = lazy_import(name)
    for _ in range(2):
        with pytest.raises(ModuleNotFoundError):
            _ = handle.VALUE
    (span,) = import_spans(spans)  # the remembered failure is not a second import
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"ModuleNotFoundError: No module named '{name}'"
    assert dict(span.attributes or {}) == {
        MODULE_ATTRIBUTE: name,
        "error.type": "ModuleNotFoundError",
    }
    assert [event.name for event in span.events] == ["exception"]
    (point,) = metric_probe.points(IMPORT_METRIC, **{MODULE_ATTRIBUTE: name})
    assert point.attributes == {MODULE_ATTRIBUTE: name, "error.type": "ModuleNotFoundError"}
    assert point.point.count == 1


def test_error_type_of_a_non_builtin_exception_is_qualified(
    module_dir: Path, spans: InMemorySpanExporter
) -> None:
    name = write_module(
        module_dir,
        """
        class BrokenSetup(Exception):
            pass
        raise BrokenSetup("no config")
        """,
    )
    with pytest.raises(Exception, match="no config"):
        lazy_import(name).load()
    (span,) = import_spans(spans)
    assert span.attributes is not None
    assert span.attributes["error.type"] == f"{name}.BrokenSetup"


def test_already_imported_module_emits_nothing(
    spans: InMemorySpanExporter, metric_probe: MetricsProbe
) -> None:
    assert "json" in sys.modules or __import__("json")
    handle = lazy_import("json")
    assert handle.dumps([1]) == "[1]"
    assert import_spans(spans) == []
    assert metric_probe.points(IMPORT_METRIC, **{MODULE_ATTRIBUTE: "json"}) == []


def test_without_opentelemetry_imported_nothing_imports_it() -> None:
    result = run_python(
        """
        import sys
        from codomyrmex.performance import lazy_import
        from codomyrmex.performance.lazy_loader import import_timings
        colorsys = lazy_import("colorsys")
        assert colorsys.rgb_to_hsv(1, 0, 0) == (0.0, 1.0, 1)
        print(sorted(import_timings()), "opentelemetry" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['colorsys'] False"


def test_configured_sdk_in_a_fresh_interpreter_exports_the_span(tmp_path: Path) -> None:
    result = run_python(
        f"""
        import json
        from codomyrmex.performance import configure_telemetry, lazy_import
        handle = configure_telemetry("lazy-test", output_dir={str(tmp_path)!r})
        colorsys = lazy_import("colorsys")
        colorsys.rgb_to_hsv(1, 0, 0)
        handle.shutdown()
        """
    )
    assert result.returncode == 0, result.stderr
    exported = (tmp_path / "traces.jsonl").read_text()
    assert '"import colorsys"' in exported
    assert '"codomyrmex.module.name"' in exported


def test_import_span_nests_under_a_monitored_caller(
    module_dir: Path, spans: InMemorySpanExporter
) -> None:
    from codomyrmex.performance import monitor

    name = write_module(module_dir, "VALUE = 3\n")
    handle = lazy_import(name)

    @monitor
    def uses_the_module() -> int:
        return int(handle.VALUE)

    assert uses_the_module() == 3
    (caller,) = [s for s in spans.get_finished_spans() if s.name.endswith("uses_the_module")]
    (span,) = import_spans(spans)
    assert span.parent is not None
    assert span.parent.span_id == caller.context.span_id
    assert span.context.trace_id == caller.context.trace_id
