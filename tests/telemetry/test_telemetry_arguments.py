"""configure_telemetry's arguments and variables: what cannot work is refused or replaced.

The checks (``telemetry._settings``) are pure, so hypothesis drives them in-process; the
end-to-end cases run ``configure_telemetry`` in a fresh interpreter.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codomyrmex.performance.telemetry import _settings
from harness.subprocesses import run_python

INTEGRAL = {
    "max_queue_size": (1, 2**31 - 1),
    "max_export_batch_size": (1, 2**31 - 1),
    "output_max_backups": (0, 1000),
}
DAY_MILLIS = 86_400_000.0
REAL = {
    "timeout": 86_400.0,
    "schedule_delay_millis": DAY_MILLIS,
    "metric_export_interval_millis": DAY_MILLIS,
    "output_max_megabytes": 1024.0 * 1024,
}
WRONG_TYPES = st.one_of(st.booleans(), st.text(), st.builds(object), st.lists(st.integers()))


@st.composite
def bad_arguments(draw: st.DrawFn) -> tuple[str, object]:
    name = draw(st.sampled_from(sorted(INTEGRAL) + sorted(REAL)))
    if name in INTEGRAL:
        low, high = INTEGRAL[name]
        value = draw(st.one_of(
            st.integers(max_value=low - 1), st.integers(min_value=high + 1), st.just(10**5000),
            st.floats(allow_nan=True, allow_infinity=True), WRONG_TYPES,
        ))  # fmt: skip
    else:
        high = REAL[name]
        value = draw(st.one_of(
            st.floats(max_value=0), st.floats(min_value=high, exclude_min=True),
            st.sampled_from([math.nan, math.inf, -math.inf]),
            st.integers(max_value=0), st.integers(min_value=int(high) + 1), st.just(10**5000),
            WRONG_TYPES,
        ))  # fmt: skip
    return name, value


@given(bad_arguments())
def test_an_argument_that_cannot_work_is_refused_by_name(case: tuple[str, object]) -> None:
    name, value = case
    with pytest.raises((TypeError, ValueError)) as caught:
        _settings.check_arguments(**{name: value})
    assert str(caught.value).startswith(f"{name} must be ")


@st.composite
def good_arguments(draw: st.DrawFn) -> dict[str, object]:
    chosen: dict[str, object] = {}
    for name, (low, high) in INTEGRAL.items():
        chosen[name] = draw(st.none() | st.integers(low, high))
    for name, high in REAL.items():
        chosen[name] = draw(
            st.none() | st.floats(min_value=0, max_value=high, exclude_min=True)
            | st.integers(1, int(high))
        )  # fmt: skip
    return chosen


@given(good_arguments())
def test_arguments_in_range_are_accepted(arguments: dict[str, object]) -> None:
    _settings.check_arguments(**arguments)


def test_a_batch_larger_than_the_queue_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100")
    with pytest.raises(ValueError, match=r"^max_export_batch_size \(200\) must not exceed"):
        _settings.resolve(max_export_batch_size=200)
    assert _settings.resolve(max_export_batch_size=100).batch["max_export_batch_size"] == 100


TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
TOKENS = st.text(alphabet=TCHAR, min_size=1)
GRPC_NAMES = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz-_.", min_size=1).filter(
    lambda name: not name.endswith("-bin")
)
VISIBLE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


FIELD_TEXT = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")


@given(TOKENS, st.text(alphabet=FIELD_TEXT))
def test_rfc_9110_headers_are_accepted_over_http(name: str, value: str) -> None:
    value = value.strip(" ")
    assert _settings.check_headers({name: value}, ["http/protobuf"]) == {name.lower(): value}


@given(GRPC_NAMES, VISIBLE)
def test_printable_ascii_headers_are_accepted_over_grpc(name: str, value: str) -> None:
    upper = name.upper()
    assert _settings.check_headers({upper: value}, ["grpc"]) == {name: value}


@given(
    st.text(min_size=1).filter(lambda name: re.fullmatch(f"[{re.escape(TCHAR)}]+", name) is None)
)
def test_a_header_name_that_is_not_a_token_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"^headers: .* cannot be sent: its name is not"):
        _settings.check_headers({name: "v"}, ["http/protobuf"])


@given(
    TOKENS, st.text(), st.sampled_from(["\r", "\n", "\x00", "\x7f", "\u0100", "\udce9"]), st.text()
)
def test_a_header_value_with_a_forbidden_character_is_refused(
    name: str, before: str, bad: str, after: str
) -> None:
    with pytest.raises(ValueError, match=r"^headers: .* cannot be sent: its value has"):
        _settings.check_headers({name: f"x{before}{bad}{after}x"}, ["http/protobuf"])


@pytest.mark.parametrize("value", [" leading", "trailing\t", "v\r\nInjected: 1"])
def test_header_values_with_edge_whitespace_or_crlf_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="its value has"):
        _settings.check_headers({"x-token": value}, ["http/protobuf"])


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"x-name": "café"}, "printable ASCII"),
        ({"x!name": "v"}, "0-9 a-z"),
        ({"trace-bin": "v"}, "'-bin'"),
    ],
)
def test_headers_grpc_cannot_send_are_refused_over_grpc(
    headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(ValueError, match=f"cannot be sent over gRPC: .*{re.escape(reason)}"):
        _settings.check_headers(headers, ["http/protobuf", "grpc"])
    _settings.check_headers(headers, ["http/protobuf"])


def test_the_same_header_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        _settings.check_headers({"X-Token": "a", "x-token": "b"}, ["grpc"])


#: Unusable values of the numeric variables the SDK setup reads, one each.
VARIABLES = {
    "OTEL_BSP_MAX_QUEUE_SIZE": "99999999999999999999",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0",
    "OTEL_BSP_SCHEDULE_DELAY": "1e400",
    "OTEL_BSP_EXPORT_TIMEOUT": "-1",
    "OTEL_METRIC_EXPORT_INTERVAL": "99999999999999999999",
    "OTEL_METRIC_EXPORT_TIMEOUT": "nan",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "inf",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "abc",
    "OTEL_ATTRIBUTE_COUNT_LIMIT": "1.5",
    "OTEL_SPAN_EVENT_COUNT_LIMIT": "-1",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "x",
    "CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES": "0",
}


def test_unusable_variables_are_one_warning_each_and_their_defaults(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for variable, value in VARIABLES.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "7")
    with caplog.at_level(logging.WARNING, "codomyrmex.performance"):
        settings = _settings.resolve()
    warned = [record.getMessage() for record in caplog.records]
    assert len(warned) == len(VARIABLES), warned
    for variable, value in VARIABLES.items():
        assert sum(f"{variable}={value!r} is not " in line for line in warned) == 1, variable
    assert settings.batch == {
        "max_queue_size": 2048,
        "max_export_batch_size": 512,
        "schedule_delay_millis": 5000,
        "export_timeout_millis": 30_000,
    }
    assert (settings.metric_interval_millis, settings.metric_timeout_millis) == (60_000, 30_000)
    assert settings.timeouts == {"traces": 10.0, "metrics": 10.0}
    assert settings.span_limits == {
        "max_attributes": 128,
        "max_events": 128,
        "max_attribute_length": -1,
    }
    assert settings.max_bytes == 8 * 1024 * 1024


def test_usable_variables_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2.5")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "4")
    monkeypatch.setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "16")
    settings = _settings.resolve(timeout=None)
    assert settings.batch["max_queue_size"] == 64
    assert settings.batch["max_export_batch_size"] == 64  # the default 512, within the queue
    assert settings.batch["schedule_delay_millis"] == 250
    assert settings.timeouts == {"traces": 2.5, "metrics": 4.0}
    assert settings.span_limits == {}  # the SDK reads the valid ones itself


def test_configure_telemetry_refuses_what_would_lose_every_span() -> None:
    result = run_python(
        """
import math
from opentelemetry import trace
from codomyrmex.performance import configure_telemetry
cases = [
    dict(timeout=math.nan), dict(timeout=math.inf), dict(schedule_delay_millis=math.inf),
    dict(max_queue_size=1.5), dict(max_queue_size=math.nan), dict(max_queue_size=10**30),
    dict(headers={"x-token": "a\\r\\nInjected: 1"}), dict(headers={"x-tok\\x00en": "a"}),
    dict(headers={"bad name": "a"}), dict(headers={"x-name": "café"}, protocol="grpc"),
    dict(output_max_backups=-1), dict(output_max_megabytes=0.0),
]
for kwargs in cases:
    try:
        configure_telemetry(**kwargs)
    except (TypeError, ValueError) as exc:
        print(type(exc).__name__, str(exc).split(" ")[0])
print(type(trace.get_tracer_provider()).__name__)
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ValueError timeout",
        "ValueError timeout",
        "ValueError schedule_delay_millis",
        "TypeError max_queue_size",
        "TypeError max_queue_size",
        "ValueError max_queue_size",
        "ValueError headers:",
        "ValueError headers:",
        "ValueError headers:",
        "ValueError headers:",
        "ValueError output_max_backups",
        "ValueError output_max_megabytes",
        "ProxyTracerProvider",
    ]


def test_unusable_variables_still_export(tmp_path: Path) -> None:
    env = {**VARIABLES, "CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)}
    result = run_python(
        """
from codomyrmex.performance import configure_telemetry
from codomyrmex.performance.telemetry import scope_telemetry
handle = configure_telemetry("bad-variables")
scope_telemetry().tracer().start_span("kept", attributes={"a": 1, "b": "x" * 50}).end()
print(handle.shutdown(), handle.stats())
""",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == "True TelemetryStats(ended=1, exported=1, failed=0, dropped=0)"
    warnings = [line for line in result.stderr.splitlines() if " is not " in line]
    assert len(warnings) == len(VARIABLES), result.stderr
    assert '"name":"kept"' in (tmp_path / "traces.jsonl").read_text()


def test_a_limit_the_sdk_refuses_at_import_turns_telemetry_off_with_one_warning() -> None:
    result = run_python(
        """
from codomyrmex.performance import configure_telemetry, monitor
handle = configure_telemetry("limits")
print(handle.destination, monitor(lambda: 1)())
""",
        env={"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "disabled (the OpenTelemetry SDK cannot start) 1"
    (warning,) = result.stderr.splitlines()
    assert "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT must be a non-negative integer" in warning


def test_env_headers_that_cannot_be_sent_are_one_warning(tmp_path: Path) -> None:
    result = run_python(
        """
from codomyrmex.performance import configure_telemetry
handle = configure_telemetry("env-headers", endpoint="http://127.0.0.1:9", protocol="grpc")
print(handle.destination)
""",
        env={"OTEL_EXPORTER_OTLP_HEADERS": "x-good=1,x-name=caf%C3%A9,x-crlf=a%0D%0Ab"},
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "OTEL_EXPORTER_OTLP_HEADERS" in line]
    assert len(warnings) == 1, result.stderr
    assert "'x-name': gRPC metadata values must be printable ASCII" in warnings[0]
    assert "'x-crlf': its value has a control character" in warnings[0]
    assert "x-good" not in warnings[0]


def test_an_unknown_protocol_variable_is_one_warning_and_http(tmp_path: Path) -> None:
    result = run_python(
        """
from codomyrmex.performance import configure_telemetry
print(configure_telemetry("protocols", endpoint="http://127.0.0.1:9").destination)
""",
        env={"OTEL_EXPORTER_OTLP_PROTOCOL": "udp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "traces: http://127.0.0.1:9 (http/protobuf); metrics: http://127.0.0.1:9 (grpc)"
    )
    (warning,) = result.stderr.splitlines()
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='udp' is not one of grpc, http/protobuf" in warning
