"""What ``configure_telemetry`` accepts: its arguments checked, its variables read safely.

An argument given in code that cannot work is a ``TypeError`` or ``ValueError`` naming it
(before anything is installed). A variable (``OTEL_*`` or ours) that cannot work is one
warning naming it and its value, and the default is used: the SDK would otherwise raise
into the host (``OTEL_BSP_MAX_QUEUE_SIZE=0``, ``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=x``), or
start an export thread that dies on its first wait (``OTEL_BSP_SCHEDULE_DELAY=1e30``).
So :func:`resolve` reads every numeric variable the SDK setup depends on once and hands
the SDK explicit, valid values.

Bounds: sizes (queue, batch) from 1 to 2**31 - 1; durations greater than 0 and at most a
day (``timeout`` in seconds, the others in milliseconds); ``output_max_megabytes``
greater than 0 and at most 1 TiB; ``output_max_backups`` from 0 to 1000. Headers follow
RFC 9110 (a name is a token; a value has no control characters and no leading or
trailing space); over gRPC a value must also be printable ASCII, a name one of
``0-9 a-z - _ .`` (names are sent lowercase) and not a binary ``-bin`` one.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codomyrmex.performance._safe import LOGGER_NAME
from codomyrmex.performance.environment_variables import (
    CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS,
    CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES,
)

__all__ = [
    "SIGNALS",
    "Settings",
    "check_arguments",
    "check_headers",
    "check_types",
    "header_problem",
    "resolve",
]

_logger = logging.getLogger(LOGGER_NAME)

SIGNALS = ("traces", "metrics")
MAX_SIZE = 2**31 - 1
DAY_SECONDS = 86_400.0
DAY_MILLIS = 86_400_000.0
#: The rotation defaults: at most (1 + 3) x 8 MiB per signal.
DEFAULT_MAX_MEGABYTES = 8.0
DEFAULT_MAX_BACKUPS = 3


@dataclass(frozen=True)
class _Range:
    """A number ``low < value <= high`` (``low <= value`` when ``integral``)."""

    integral: bool
    low: float
    high: float
    unit: str = ""

    def describe(self) -> str:
        low, high = _shown(self.low), _shown(self.high)
        if self.integral:
            return f"an integer from {low} to {high}"
        return f"a number greater than {low} and at most {high}{self.unit}"

    def accepts(self, value: float) -> bool:
        if self.integral:
            return self.low <= value <= self.high
        finite = isinstance(value, int) or math.isfinite(value)  # no float() of a huge int
        return finite and self.low < value <= self.high


def _got(value: float) -> str:
    """``repr(value)``, short for a huge integer (whose ``repr`` may even be refused)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def _shown(bound: float) -> str:
    return str(int(bound)) if math.isfinite(bound) and bound == int(bound) else str(bound)


_ARGUMENTS: dict[str, _Range] = {
    "timeout": _Range(False, 0, DAY_SECONDS, " (seconds)"),
    "schedule_delay_millis": _Range(False, 0, DAY_MILLIS, " (milliseconds)"),
    "metric_export_interval_millis": _Range(False, 0, DAY_MILLIS, " (milliseconds)"),
    "max_queue_size": _Range(True, 1, MAX_SIZE),
    "max_export_batch_size": _Range(True, 1, MAX_SIZE),
    "output_max_megabytes": _Range(False, 0, 1024 * 1024, " (MiB)"),
    "output_max_backups": _Range(True, 0, 1000),
}


def check_arguments(**values: object) -> None:
    """``TypeError``/``ValueError`` naming the first argument given (not None) out of range."""
    for name, value in values.items():
        if value is None:
            continue
        bounds = _ARGUMENTS[name]
        allowed = int if bounds.integral else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            kind = "an integer" if bounds.integral else "a number"
            raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
        if not bounds.accepts(value):
            raise ValueError(f"{name} must be {bounds.describe()}, got {_got(value)}")


def check_types(service_name: object, headers: object, resource_attributes: object) -> None:
    """``TypeError`` naming the argument unless each is None or of the documented type."""
    if service_name is not None and not isinstance(service_name, str):
        raise TypeError(f"service_name must be a string, not {type(service_name).__name__}")
    if headers is not None:
        for key, value in _mapping_items("headers", headers):
            if not isinstance(value, str):
                raise TypeError(
                    f"headers values must be strings, got {type(value).__name__} for {key!r}"
                )
    if resource_attributes is not None:
        for key, value in _mapping_items("resource_attributes", resource_attributes):
            if not _is_attribute_value(value):
                raise TypeError(
                    "resource_attributes values must be str, bool, int, float or a sequence "
                    f"of them, got {type(value).__name__} for {key!r}"
                )


def _mapping_items(name: str, value: object) -> list[tuple[str, object]]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of strings, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings, got {type(key).__name__} {key!r}")
    return list(value.items())


def _is_attribute_value(value: object) -> bool:
    scalars = (str, bool, int, float)
    if isinstance(value, scalars):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(item, scalars) for item in value)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(
    r"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?"
)
_GRPC_NAME = re.compile(r"[0-9a-z\-_.]+")
_GRPC_VALUE = re.compile(r"[\x20-\x7e]*")


def header_problem(name: str, value: str, *, grpc: bool) -> str | None:
    """Why the header ``name: value`` cannot be sent (RFC 9110, gRPC rules), or None."""
    if not _TOKEN.fullmatch(name):
        return "its name is not an RFC 9110 token (letters, digits, !#$%&'*+-.^_`|~)"
    if not _FIELD_VALUE.fullmatch(value):
        return (
            "its value has a control character (CR, LF, NUL...), a character above U+00FF, "
            "or leading or trailing whitespace (RFC 9110)"
        )
    if grpc:
        if not _GRPC_NAME.fullmatch(name.lower()):
            return "gRPC metadata names may only use 0-9 a-z - _ ."
        if name.lower().endswith("-bin"):
            return "gRPC '-bin' metadata carries bytes, not text"
        if not _GRPC_VALUE.fullmatch(value):
            return "gRPC metadata values must be printable ASCII"
    return None


def check_headers(headers: Mapping[str, str] | None, protocols: Iterable[str]) -> dict[str, str]:
    """``headers`` with lowercase names; ``ValueError`` naming a header that cannot be sent."""
    grpc = "grpc" in set(protocols)
    checked: dict[str, str] = {}
    for name, value in (headers or {}).items():
        problem = header_problem(name, value, grpc=grpc)
        if problem is not None:
            over = " over gRPC" if problem.startswith("gRPC") else ""
            raise ValueError(f"headers: {name!r} cannot be sent{over}: {problem}")
        if name.lower() in checked:
            raise ValueError(f"headers: {name!r} is given twice (names are case-insensitive)")
        checked[name.lower()] = value
    return checked


@dataclass(frozen=True)
class Settings:
    """Everything numeric the SDK setup needs, explicit and valid."""

    #: ``BatchSpanProcessor`` keyword arguments.
    batch: dict[str, float] = field(default_factory=dict)
    #: ``PeriodicExportingMetricReader`` interval and timeout (milliseconds).
    metric_interval_millis: float = 60_000
    metric_timeout_millis: float = 30_000
    #: OTLP exporter timeout (seconds) of each signal.
    timeouts: dict[str, float] = field(default_factory=dict)
    #: ``SpanLimits`` keyword arguments replacing the unusable ``OTEL_*_LIMIT`` variables.
    span_limits: dict[str, int] = field(default_factory=dict)
    #: File rotation: bytes per file, backups kept.
    max_bytes: int = int(DEFAULT_MAX_MEGABYTES * 1024 * 1024)
    max_backups: int = DEFAULT_MAX_BACKUPS


def resolve(
    *,
    timeout: float | None = None,
    max_queue_size: int | None = None,
    max_export_batch_size: int | None = None,
    schedule_delay_millis: float | None = None,
    metric_export_interval_millis: float | None = None,
    output_max_megabytes: float | None = None,
    output_max_backups: int | None = None,
) -> Settings:
    """The settings from the (checked) arguments, else the variables, else the defaults.

    ``ValueError`` when ``max_export_batch_size`` exceeds the queue size.
    """
    queue = _pick(max_queue_size, "OTEL_BSP_MAX_QUEUE_SIZE", _ARGUMENTS["max_queue_size"], 2048)
    if max_export_batch_size is not None and max_export_batch_size > queue:
        raise ValueError(
            f"max_export_batch_size ({max_export_batch_size}) must not exceed the queue size "
            f"({queue}: max_queue_size, else OTEL_BSP_MAX_QUEUE_SIZE, else 2048)"
        )
    batch = _pick(
        max_export_batch_size,
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        _Range(True, 1, queue),
        min(512, queue),
    )
    delay = _pick(
        schedule_delay_millis, "OTEL_BSP_SCHEDULE_DELAY", _ARGUMENTS["schedule_delay_millis"], 5000
    )
    millis = _ARGUMENTS["metric_export_interval_millis"]
    general = _pick(timeout, "OTEL_EXPORTER_OTLP_TIMEOUT", _ARGUMENTS["timeout"], 10.0)
    timeouts = {
        signal: _pick(
            timeout, f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT", _ARGUMENTS["timeout"], general
        )
        for signal in SIGNALS
    }
    megabytes = _pick(
        output_max_megabytes,
        CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES,
        _ARGUMENTS["output_max_megabytes"],
        DEFAULT_MAX_MEGABYTES,
    )
    backups = _pick(
        output_max_backups,
        CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS,
        _ARGUMENTS["output_max_backups"],
        DEFAULT_MAX_BACKUPS,
    )
    return Settings(
        batch={
            "max_queue_size": queue,
            "max_export_batch_size": batch,
            "schedule_delay_millis": delay,
            "export_timeout_millis": _pick(None, "OTEL_BSP_EXPORT_TIMEOUT", millis, 30_000),
        },
        metric_interval_millis=_pick(
            metric_export_interval_millis, "OTEL_METRIC_EXPORT_INTERVAL", millis, 60_000
        ),
        metric_timeout_millis=_pick(None, "OTEL_METRIC_EXPORT_TIMEOUT", millis, 30_000),
        timeouts=timeouts,
        span_limits=_span_limits(),
        max_bytes=max(1, int(megabytes * 1024 * 1024)),
        max_backups=int(backups),
    )


def _pick(argument: Any, variable: str, bounds: _Range, default: Any) -> Any:
    """The argument if given, else the variable's value if usable (else warn), else default."""
    if argument is not None:
        return argument
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    value = _parse(raw, bounds)
    if value is None:
        _logger.warning(
            "codomyrmex.performance: %s=%r is not %s: using the default %s",
            variable,
            os.environ[variable],
            bounds.describe(),
            default,
        )
        return default
    return value


def _parse(raw: str, bounds: _Range) -> float | None:
    try:
        value: float = int(raw) if bounds.integral else float(raw)
    except ValueError:
        return None
    return value if bounds.accepts(value) else None


# ``OTEL_*_LIMIT`` variables: the ``SpanLimits`` argument each sets, and its fallback (128,
# the specification's default, or the global variable it refines).
_COUNT_DEFAULT = 128
_GLOBAL_COUNT = "OTEL_ATTRIBUTE_COUNT_LIMIT"
_GLOBAL_LENGTH = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"
_LIMITS = {
    _GLOBAL_COUNT: ("max_attributes", None),
    "OTEL_SPAN_EVENT_COUNT_LIMIT": ("max_events", None),
    "OTEL_SPAN_LINK_COUNT_LIMIT": ("max_links", None),
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": ("max_span_attributes", _GLOBAL_COUNT),
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": ("max_event_attributes", _GLOBAL_COUNT),
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": ("max_link_attributes", _GLOBAL_COUNT),
    _GLOBAL_LENGTH: ("max_attribute_length", None),
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": ("max_span_attribute_length", _GLOBAL_LENGTH),
}
_UNLIMITED = -1  # SpanLimits.UNSET


def _span_limits() -> dict[str, int]:
    """``SpanLimits`` arguments for the limit variables the SDK would refuse (``ValueError``)."""
    limits: dict[str, int] = {}
    valid: dict[str, int] = {}
    for variable, (argument, refines) in _LIMITS.items():
        raw = os.environ.get(variable, "").strip()
        if not raw:
            continue
        value = _parse(raw, _Range(True, 0, math.inf))
        if value is not None:
            valid[variable] = int(value)
            continue
        if refines is not None:
            fallback = valid.get(
                refines, _COUNT_DEFAULT if refines == _GLOBAL_COUNT else _UNLIMITED
            )
        else:
            fallback = _UNLIMITED if variable == _GLOBAL_LENGTH else _COUNT_DEFAULT
        _logger.warning(
            "codomyrmex.performance: %s=%r is not a non-negative integer: using the default %s",
            variable,
            os.environ[variable],
            "(no limit)" if fallback == _UNLIMITED else fallback,
        )
        limits[argument] = fallback
    return limits
