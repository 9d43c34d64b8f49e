"""Reading OTLP-JSON lines: the embedded default's files and a collector ``file`` exporter's.

Each line is one ``ExportTraceServiceRequest`` (``{"resourceSpans": ...}``) or
``ExportMetricsServiceRequest`` (``{"resourceMetrics": ...}``) in the OTLP/JSON encoding;
log lines (``resourceLogs``) are skipped. Trace and span ids may be hex (the OTLP/JSON
specification, and what this package writes) or base64 (protobuf's JSON mapping); 64-bit
integers may be strings or numbers; enums names or numbers. A line that is not JSON, or
not one of those documents, is skipped and named in :attr:`Telemetry.problems`, and the
good lines are kept: a truncated last line (an exporter stopped mid-write) costs only
that line.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gc
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Event",
    "Exemplar",
    "Histogram",
    "Point",
    "Span",
    "Telemetry",
    "paused_gc",
    "read_telemetry",
    "telemetry_files",
]

AttributeValue = Any

#: File names read in a telemetry directory: the embedded default's ``traces.jsonl`` and
#: ``metrics.jsonl`` with their rotated backups (``traces.jsonl.1``...), and the JSON files
#: of a collector ``file`` exporter (``*.json``, also rotated).
FILE_PATTERNS = ("*.jsonl", "*.jsonl.*", "*.json", "*.json.*")

_PROBLEMS_PER_FILE = 3
_STATUS_ERROR = {"STATUS_CODE_ERROR", 2, "2"}
_CUMULATIVE = {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2, "2"}
_KINDS = {
    0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER",
}  # fmt: skip


@dataclass(slots=True)
class Event:
    """A span event (an exception, a log line) at ``time`` (ns since the epoch)."""

    name: str
    time: int
    attributes: dict[str, AttributeValue]


@dataclass(slots=True)
class Span:
    """One span; times in nanoseconds since the epoch; ``parent_id`` is ``""`` at a root."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    service: str
    start: int
    end: int
    error: bool
    status_message: str
    kind: str
    attributes: dict[str, AttributeValue]
    events: list[Event]

    @property
    def duration(self) -> int:
        """Nanoseconds, never negative."""
        return max(0, self.end - self.start)


@dataclass(slots=True)
class Exemplar:
    """A recorded value linked to the span that was current when it was measured."""

    value: float
    time: int
    trace_id: str
    span_id: str


@dataclass(slots=True)
class Histogram:
    """A histogram stream's data: its latest point (cumulative) or all points summed (delta)."""

    name: str
    service: str
    attributes: dict[str, AttributeValue]
    bounds: tuple[float, ...]
    counts: list[int]
    count: int
    total: float
    minimum: float | None
    maximum: float | None
    exemplars: list[Exemplar]
    time: int


@dataclass(slots=True)
class Point:
    """One exported value of a sum or gauge stream (every export is kept: a time series)."""

    name: str
    service: str
    attributes: dict[str, AttributeValue]
    time: int
    value: float
    stream: tuple[Any, ...]
    cumulative: bool


@dataclass
class Telemetry:
    """Everything read from a telemetry directory or file."""

    source: Path
    files: list[Path] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    histograms: list[Histogram] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.spans or self.histograms or self.points)

    @property
    def services(self) -> list[str]:
        found = {s.service for s in self.spans}
        found.update(h.service for h in self.histograms)
        found.update(p.service for p in self.points)
        return sorted(found)


def telemetry_files(source: Path) -> list[Path]:
    """The OTLP-JSON files to read: ``source`` itself, or the matching files in it.

    Oldest first: rotated backups (highest number first), then the live file.
    ``FileNotFoundError`` when ``source`` does not exist.
    """
    if not source.exists():
        raise FileNotFoundError(source)
    if not source.is_dir():
        return [source]
    found = {
        path
        for pattern in FILE_PATTERNS
        for path in source.glob(pattern)
        if path.is_file() and not path.name.startswith(".")
    }
    return sorted(found, key=_age_order)


def _age_order(path: Path) -> tuple[str, int]:
    stem, _, suffix = path.name.rpartition(".")
    if suffix.isdigit():
        return stem, -int(suffix)
    return path.name, 0


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: building 100,000s of acyclic objects (spans,
    page rows) otherwise triggers collections that scan them all, again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_telemetry(
    source: Path, *, service: str | None = None, since_ns: int | None = None
) -> Telemetry:
    """Read every OTLP-JSON file of ``source`` (a directory or one file).

    ``service`` keeps only that ``service.name``; ``since_ns`` only spans that ended and
    metric points taken at or after that time. Raises ``FileNotFoundError`` for a missing
    source; every other problem is reported in ``problems``.
    """
    with paused_gc():
        return _read(source, service, since_ns)


def _read(source: Path, service: str | None, since_ns: int | None) -> Telemetry:
    telemetry = Telemetry(source=source)
    histograms = _HistogramStreams()
    for path in telemetry_files(source):
        telemetry.files.append(path)
        bad: list[str] = []
        recognised = 0
        if not path.is_file():
            telemetry.problems.append(f"{path}: not a regular file, skipped")
            continue
        try:
            lines = list(_lines(path))
        except OSError as exc:
            telemetry.problems.append(f"{path}: cannot read ({exc.strerror or exc})")
            continue
        for number, line, truncated in lines:
            problem = _read_line(line, truncated, service, since_ns, histograms, telemetry)
            if problem is None:
                recognised += 1
            else:
                bad.append(f"{path}:{number}: {problem}")
        if recognised == 0 and bad:
            telemetry.problems.append(f"{path}: not OTLP-JSON, file skipped ({bad[0]})")
            continue
        telemetry.problems.extend(bad[:_PROBLEMS_PER_FILE])
        if len(bad) > _PROBLEMS_PER_FILE:
            telemetry.problems.append(f"{path}: {len(bad) - _PROBLEMS_PER_FILE} more bad lines")
    telemetry.histograms = histograms.merged()
    return telemetry


def _read_line(
    line: str,
    truncated: bool,
    service: str | None,
    since_ns: int | None,
    histograms: _HistogramStreams,
    telemetry: Telemetry,
) -> str | None:
    """Take in one line; None when it was read, else what is wrong with it."""
    try:
        document = json.loads(line)
    except RecursionError:
        return "JSON nested too deeply: skipped"
    except ValueError:
        if truncated:
            return "the last line is cut short (the exporter stopped mid-write): skipped"
        return "not JSON: skipped"
    if not isinstance(document, dict):
        return "not an OTLP-JSON export request: skipped"
    try:
        if "resourceSpans" in document:
            telemetry.spans.extend(_spans(document["resourceSpans"], service, since_ns))
        elif "resourceMetrics" in document:
            _metrics(document["resourceMetrics"], service, since_ns, histograms, telemetry)
        elif "resourceLogs" not in document:
            return "not an OTLP-JSON export request (no resourceSpans or resourceMetrics)"
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        return f"malformed OTLP-JSON ({type(exc).__name__}: {exc}): skipped"
    return None


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, is the unterminated last line) of each non-blank line."""
    with path.open("rb") as handle:
        text = handle.read().decode("utf-8", errors="replace")
    pieces = text.split("\n")
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if piece.strip():
            yield index + 1, piece, index == last


def _attributes(items: Iterable[dict[str, Any]] | None) -> dict[str, AttributeValue]:
    return {item["key"]: _value(item.get("value") or {}) for item in items or ()}


def _value(value: dict[str, Any]) -> AttributeValue:
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return _float(value["doubleValue"])
    if "arrayValue" in value:
        return [_value(v) for v in (value["arrayValue"] or {}).get("values") or ()]
    if "kvlistValue" in value:
        return _attributes((value["kvlistValue"] or {}).get("values"))
    if "bytesValue" in value:
        return str(value["bytesValue"])
    return None


def _float(raw: Any) -> float:
    return float(raw) if not isinstance(raw, str) else float(raw.replace("Infinity", "inf"))


def _hex_id(raw: Any, length: int) -> str:
    """A trace (``length`` 32) or span (16) id as lower-case hex; ``""`` when absent."""
    if not raw:
        return ""
    text = str(raw)
    if len(text) == length:
        try:
            int(text, 16)
        except ValueError:
            pass
        else:
            return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        raise ValueError(f"id {text!r} is neither hex nor base64") from None


def _service(resource: dict[str, Any] | None) -> tuple[str, dict[str, AttributeValue]]:
    attributes = _attributes((resource or {}).get("attributes"))
    return str(attributes.get("service.name", "unknown_service")), attributes


def _spans(
    resource_spans: list[dict[str, Any]], wanted: str | None, since_ns: int | None
) -> Iterator[Span]:
    for resource_span in resource_spans:
        service, _ = _service(resource_span.get("resource"))
        if wanted is not None and service != wanted:
            continue
        for scope_span in resource_span.get("scopeSpans") or ():
            for raw in scope_span.get("spans") or ():
                end = int(raw.get("endTimeUnixNano") or 0)
                if since_ns is not None and end < since_ns:
                    continue
                status = raw.get("status") or {}
                kind = raw.get("kind", "")
                if isinstance(kind, int):
                    kind = _KINDS.get(kind, str(kind))
                yield Span(
                    trace_id=_hex_id(raw["traceId"], 32),
                    span_id=_hex_id(raw["spanId"], 16),
                    parent_id=_hex_id(raw.get("parentSpanId"), 16),
                    name=str(raw.get("name", "")),
                    service=service,
                    start=int(raw.get("startTimeUnixNano") or 0),
                    end=end,
                    error=status.get("code") in _STATUS_ERROR,
                    status_message=str(status.get("message", "")),
                    kind=str(kind).removeprefix("SPAN_KIND_"),
                    attributes=_attributes(raw.get("attributes")),
                    events=[
                        Event(
                            str(e.get("name", "")),
                            int(e.get("timeUnixNano") or 0),
                            _attributes(e.get("attributes")),
                        )
                        for e in raw.get("events") or ()
                    ],
                )


def _frozen(attributes: dict[str, AttributeValue]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in attributes.items()))


class _HistogramStreams:
    """Histogram points by stream: the latest of a cumulative stream, the sum of a delta one."""

    def __init__(self) -> None:
        self._streams: dict[tuple[Any, ...], Histogram] = {}

    def add(self, key: tuple[Any, ...], point: Histogram, cumulative: bool) -> None:
        held = self._streams.get(key)
        if held is None or (cumulative and point.time >= held.time):
            self._streams[key] = point
        elif not cumulative and held.bounds == point.bounds:
            held.counts = [a + b for a, b in zip(held.counts, point.counts, strict=False)]
            held.count += point.count
            held.total += point.total
            held.minimum = _extreme(min, held.minimum, point.minimum)
            held.maximum = _extreme(max, held.maximum, point.maximum)
            held.exemplars.extend(point.exemplars)
            held.time = max(held.time, point.time)

    def merged(self) -> list[Histogram]:
        return list(self._streams.values())


def _extreme(pick: Any, a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return float(pick(a, b))


def _metrics(
    resource_metrics: list[dict[str, Any]],
    wanted: str | None,
    since_ns: int | None,
    histograms: _HistogramStreams,
    telemetry: Telemetry,
) -> None:
    for resource_metric in resource_metrics:
        service, resource = _service(resource_metric.get("resource"))
        if wanted is not None and service != wanted:
            continue
        identity = _frozen(resource)
        for scope_metric in resource_metric.get("scopeMetrics") or ():
            for metric in scope_metric.get("metrics") or ():
                name = str(metric["name"])
                if "histogram" in metric:
                    data = metric["histogram"] or {}
                    cumulative = data.get("aggregationTemporality") in _CUMULATIVE
                    for raw in data.get("dataPoints") or ():
                        point = _histogram_point(name, service, raw)
                        if since_ns is not None and point.time < since_ns:
                            continue
                        start = raw.get("startTimeUnixNano")
                        key = (identity, name, _frozen(point.attributes), start)
                        histograms.add(key, point, cumulative)
                    continue
                data = metric.get("sum") or metric.get("gauge")
                if data is None:
                    continue
                cumulative = "gauge" in metric or (
                    data.get("aggregationTemporality") in _CUMULATIVE
                )
                for raw in data.get("dataPoints") or ():
                    time = int(raw.get("timeUnixNano") or 0)
                    if since_ns is not None and time < since_ns:
                        continue
                    attributes = _attributes(raw.get("attributes"))
                    value = float(int(raw["asInt"])) if "asInt" in raw else _float(raw["asDouble"])
                    stream = (identity, name, _frozen(attributes), raw.get("startTimeUnixNano"))
                    telemetry.points.append(
                        Point(name, service, attributes, time, value, stream, cumulative)
                    )


def _histogram_point(name: str, service: str, raw: dict[str, Any]) -> Histogram:
    bounds = tuple(_float(b) for b in raw.get("explicitBounds") or ())
    counts = [int(c) for c in raw.get("bucketCounts") or ()]
    if counts and len(counts) != len(bounds) + 1:
        raise ValueError(f"{len(counts)} bucket counts for {len(bounds)} bounds")
    exemplars = []
    for e in raw.get("exemplars") or ():
        trace_id = _hex_id(e.get("traceId"), 32)
        if not trace_id:
            continue
        value = float(int(e["asInt"])) if "asInt" in e else _float(e.get("asDouble", math.nan))
        exemplars.append(
            Exemplar(value, int(e.get("timeUnixNano") or 0), trace_id, _hex_id(e.get("spanId"), 16))
        )
    return Histogram(
        name=name,
        service=service,
        attributes=_attributes(raw.get("attributes")),
        bounds=bounds,
        counts=counts,
        count=int(raw.get("count") or 0),
        total=_float(raw.get("sum", 0.0)),
        minimum=_float(raw["min"]) if "min" in raw else None,
        maximum=_float(raw["max"]) if "max" in raw else None,
        exemplars=exemplars,
        time=int(raw.get("timeUnixNano") or 0),
    )
