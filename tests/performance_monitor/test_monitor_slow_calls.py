"""``@monitor(profile_slower_than=...)``: sampled stacks on the spans of slow calls only.

The sampler is a thread, so every call runs in a fresh interpreter with a timeout; one
interpreter runs the scenarios below and prints the events of every span.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.subprocesses import run_python

HEAD = """
import asyncio, json, os, sys, time
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from codomyrmex.performance.performance_monitor import PerformanceMonitor

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
perf = PerformanceMonitor(tracer_provider=provider)

def slow_helper(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def spans():
    return [
        {
            "name": span.name,
            "status": span.status.status_code.name,
            "events": [
                {"name": event.name, "attributes": {
                    key: list(value) if isinstance(value, tuple) else value
                    for key, value in (event.attributes or {}).items()
                }}
                for event in span.events
            ],
        }
        for span in exporter.get_finished_spans()
    ]
"""

SCENARIOS = (
    HEAD
    + """
@perf.monitor(name="slow", profile_slower_than=0.05)
def slow(seconds):
    slow_helper(seconds)

@perf.monitor(name="fast", profile_slower_than=0.05)
def fast():
    slow_helper(0.001)

@perf.monitor(name="under", profile_slower_than=0.5)
def under():
    slow_helper(0.1)

@perf.monitor(name="sleeps", profile_slower_than=0.05)
def sleeps():
    time.sleep(0.3)

@perf.monitor(name="fails", profile_slower_than=0.05)
def fails():
    slow_helper(0.3)
    raise KeyError("late")

@perf.monitor(name="waits", profile_slower_than=0.05)
async def waits():
    await asyncio.sleep(0)
    slow_helper(0.3)

@perf.monitor(name="inner", profile_slower_than=0.05)
def inner():
    slow_helper(0.3)

@perf.monitor(name="outer", profile_slower_than=0.05)
def outer():
    inner()

@perf.monitor(name="plain")
def plain():
    slow_helper(0.1)

slow(0.4)
fast()
under()
sleeps()
try:
    fails()
except KeyError:
    pass
asyncio.run(waits())
outer()
plain()
print(json.dumps(spans()))
"""
)

PROFILE_KEYS = {
    "codomyrmex.profile.threshold",
    "codomyrmex.profile.samples",
    "codomyrmex.profile.interval",
    "codomyrmex.profile.top_frames",
    "codomyrmex.profile.top_frame_samples",
    "code.stacktrace",
}


def run_spans(code: str, **env: str) -> tuple[list[dict[str, Any]], str]:
    result = run_python(code, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return found, result.stderr


@pytest.fixture(scope="module")
def events() -> dict[str, list[dict[str, Any]]]:
    found, _ = run_spans(SCENARIOS)
    by_name = {span["name"]: span["events"] for span in found}
    assert len(by_name) == len(found)
    return by_name


def profile_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    (event,) = [event for event in events if event["name"] == "codomyrmex.slow_call"]
    attributes: dict[str, Any] = event["attributes"]
    assert set(attributes) == PROFILE_KEYS
    return attributes


def test_a_slow_call_has_its_top_frames_on_its_span(events: dict[str, Any]) -> None:
    profile = profile_of(events["slow"])
    assert profile["codomyrmex.profile.threshold"] == 0.05
    samples = profile["codomyrmex.profile.samples"]
    assert samples >= 2
    assert 0 < profile["codomyrmex.profile.interval"] < 0.35
    top, counts = (
        profile["codomyrmex.profile.top_frames"],
        profile["codomyrmex.profile.top_frame_samples"],
    )
    assert top[0].startswith("__main__.slow_helper (<string>:")
    assert len(top) == len(counts) and counts == sorted(counts, reverse=True)
    assert counts[0] >= 1 and sum(counts) == samples
    lines = profile["code.stacktrace"].splitlines()
    assert [line.rsplit(", in ", 1)[1] for line in lines] == ["slow", "slow_helper"]


def test_fast_calls_and_calls_under_the_threshold_get_nothing(events: dict[str, Any]) -> None:
    assert events["fast"] == []
    assert events["under"] == []
    assert events["plain"] == []


def test_a_call_blocked_outside_python_is_sampled_in_its_own_frame(events: dict[str, Any]) -> None:
    profile = profile_of(events["sleeps"])
    assert profile["codomyrmex.profile.top_frames"][0].startswith("__main__.sleeps (<string>:")


def test_a_slow_call_that_fails_keeps_its_profile_and_its_exception(
    events: dict[str, Any],
) -> None:
    assert [event["name"] for event in events["fails"]] == ["codomyrmex.slow_call", "exception"]
    assert profile_of(events["fails"])["codomyrmex.profile.top_frames"][0].startswith(
        "__main__.slow_helper"
    )


def test_a_coroutine_is_sampled_while_its_steps_run(events: dict[str, Any]) -> None:
    profile = profile_of(events["waits"])
    assert profile["codomyrmex.profile.top_frames"][0].startswith("__main__.slow_helper")
    assert [line.rsplit(", in ", 1)[1] for line in profile["code.stacktrace"].splitlines()] == [
        "waits",
        "slow_helper",
    ]


def test_nested_slow_calls_each_get_their_own_stack(events: dict[str, Any]) -> None:
    outer, inner = profile_of(events["outer"]), profile_of(events["inner"])
    outer_stack = [line.rsplit(", in ", 1)[1] for line in outer["code.stacktrace"].splitlines()]
    inner_stack = [line.rsplit(", in ", 1)[1] for line in inner["code.stacktrace"].splitlines()]
    assert outer_stack == ["outer", "inner", "slow_helper"]  # no frame of the monitor itself
    assert inner_stack == ["inner", "slow_helper"]


def test_without_an_sdk_slow_calls_run_and_are_recorded() -> None:
    result = run_python(
        """
import time
from codomyrmex.performance import monitor
from codomyrmex.performance.performance_monitor import default_monitor

@monitor(profile_slower_than=0.02)
def slow():
    time.sleep(0.1)
    return 7

assert slow() == 7
print(default_monitor().get_stats()["count"])
""",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_a_forked_child_profiles_its_own_slow_calls() -> None:
    found, _ = run_spans(
        HEAD
        + """
@perf.monitor(name="slow", profile_slower_than=0.05)
def slow():
    slow_helper(0.3)

pid = os.fork()
if pid == 0:
    slow()
    ok = [e["name"] for s in spans() for e in s["events"]] == ["codomyrmex.slow_call"]
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
slow()
print(json.dumps([os.waitstatus_to_exitcode(status), spans()]))
"""
    )
    child_status, parent_spans = found
    assert child_status == 0
    assert [event["name"] for event in parent_spans[0]["events"]] == ["codomyrmex.slow_call"]


INSTRUMENTED = (
    HEAD
    + """
import logging
logging.basicConfig(level=logging.WARNING, format="%(message)s")
from codomyrmex.performance import PerformanceInstrumentor

def handler():
    slow_helper(0.3)

def numbers():
    yield from range(3)

PerformanceInstrumentor().instrument(
    targets="__main__:handler,__main__:numbers", tracer_provider=provider
)
handler()
assert list(numbers()) == [0, 1, 2]
print(json.dumps(spans()))
"""
)


def test_the_instrumentor_profiles_with_the_variable() -> None:
    found, _ = run_spans(INSTRUMENTED, CODOMYRMEX_PERF_PROFILE_SLOWER_THAN="0.05")
    by_name = {span["name"]: span["events"] for span in found}
    assert profile_of(by_name["__main__.handler"])["codomyrmex.profile.threshold"] == 0.05
    assert by_name["__main__.numbers"] == []  # generators are not profiled


@pytest.mark.parametrize("value", ["soon", "0", "nan", "1e9"])
def test_a_bad_variable_is_one_warning_and_no_profiling(value: str) -> None:
    found, stderr = run_spans(INSTRUMENTED, CODOMYRMEX_PERF_PROFILE_SLOWER_THAN=value)
    assert [span["events"] for span in found] == [[], []]
    (warning,) = [
        line for line in stderr.splitlines() if "CODOMYRMEX_PERF_PROFILE_SLOWER_THAN" in line
    ]
    assert f"={value!r} ignored" in warning


# Bad values: refused before anything is wrapped (no sampler thread is started by these).


@given(st.floats(min_value=0.01, max_value=86_400))
def test_every_threshold_in_bounds_is_accepted(value: float) -> None:
    assert callable(PerformanceMonitor().monitor(profile_slower_than=value))


@given(
    st.one_of(
        st.floats(max_value=0.01, exclude_max=True),
        st.floats(min_value=86_400, exclude_min=True),
        st.just(math.nan),
        st.integers(min_value=86_401),
        st.integers(max_value=0),
    )
)
def test_thresholds_out_of_bounds_are_a_value_error(value: float) -> None:
    with pytest.raises(ValueError, match=r"profile_slower_than must be between 0\.01 and 86400"):
        PerformanceMonitor().monitor(profile_slower_than=value)


@pytest.mark.parametrize("value", [True, "0.5", b"1", [1.0], object()])
def test_thresholds_that_are_not_numbers_are_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="profile_slower_than must be a number of seconds"):
        PerformanceMonitor().monitor(len, profile_slower_than=value)  # type: ignore[arg-type]


def test_generator_functions_cannot_be_profiled() -> None:
    def numbers() -> Any:
        yield 1

    async def anumbers() -> Any:
        yield 1

    perf = PerformanceMonitor()
    for func in (numbers, anumbers):
        with pytest.raises(TypeError, match="is a generator function"):
            perf.monitor(func, profile_slower_than=1.0)
    assert perf.get_metrics() == []
