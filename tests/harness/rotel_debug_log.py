"""Parse the detailed debug log of the ``rotel`` collector into spans and metric points.

``rotel-agent start --debug-log traces --debug-log metrics --debug-log-verbosity detailed``
prints every request it receives in the Collector ``debug`` exporter's layout. The parser
turns it into :class:`CollectedSpan` and :class:`CollectedPoint` records (names, kinds, ids,
status, typed attributes, events, links, resource and scope, metric descriptors, data
points, histogram buckets, exemplars). It is strict: a line it does not understand raises
:class:`CollectorLogError`, so a change of the log format fails tests loudly instead of
letting their assertions pass on nothing. Multi-line string values (stack traces) are
joined back together. Log lines of the agent itself are kept in ``Telemetry.log_lines``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CollectedExemplar",
    "CollectedPoint",
    "CollectedSpan",
    "CollectedSpanEvent",
    "CollectorLogError",
    "LogParser",
    "Telemetry",
    "parse_debug_log",
    "prometheus_base_name",
    "prometheus_series_names",
    "strip_ansi",
]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """The text without ANSI colour and cursor escape sequences."""
    return _ANSI.sub("", text)


@dataclass
class CollectedSpanEvent:
    """An event of a span (``exception`` events carry ``exception.*`` attributes)."""

    name: str = ""
    timestamp_unix_nano: int = 0
    dropped_attributes_count: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class CollectedSpan:
    """One span as the collector received it."""

    resource: dict[str, Any]
    scope_name: str
    scope_version: str
    name: str = ""
    kind: str = ""
    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str | None = None
    status_code: str = ""
    status_message: str = ""
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[CollectedSpanEvent] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    @property
    def service_name(self) -> str | None:
        value = self.resource.get("service.name")
        return value if isinstance(value, str) else None

    @property
    def duration_seconds(self) -> float:
        return (self.end_time_unix_nano - self.start_time_unix_nano) / 1e9


@dataclass
class CollectedExemplar:
    """An exemplar linking a histogram point to the span it was recorded in."""

    trace_id: str = ""
    span_id: str = ""
    timestamp_unix_nano: int = 0
    value: float = 0.0
    filtered_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class CollectedPoint:
    """One metric data point with its metric descriptor, resource and scope."""

    resource: dict[str, Any]
    scope_name: str
    scope_version: str
    name: str
    description: str
    unit: str
    data_type: str
    is_monotonic: bool | None
    temporality: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    start_time_unix_nano: int = 0
    time_unix_nano: int = 0
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    explicit_bounds: list[float] = field(default_factory=list)
    bucket_counts: list[int] = field(default_factory=list)
    exemplars: list[CollectedExemplar] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def service_name(self) -> str | None:
        value = self.resource.get("service.name")
        return value if isinstance(value, str) else None


@dataclass
class Telemetry:
    """Everything parsed from the collector's debug log (optionally filtered)."""

    spans: list[CollectedSpan] = field(default_factory=list)
    points: list[CollectedPoint] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)

    def spans_named(self, name: str) -> list[CollectedSpan]:
        return [span for span in self.spans if span.name == name]

    def span_names(self) -> set[str]:
        return {span.name for span in self.spans}

    def metric_names(self) -> set[str]:
        return {point.name for point in self.points}

    def points_named(self, name: str, **attributes: Any) -> list[CollectedPoint]:
        """Points of one metric whose attributes include the given ones (dots as ``__``)."""
        wanted = {key.replace("__", "."): value for key, value in attributes.items()}
        return [
            point
            for point in self.points
            if point.name == name
            and all(point.attributes.get(key) == value for key, value in wanted.items())
        ]

    def latest_points(self, name: str, **attributes: Any) -> list[CollectedPoint]:
        """Like ``points_named``, but only the newest point of each series.

        With cumulative temporality (the SDK default) that is the series' final value,
        however many exports (periodic, ``force_flush``, shutdown) carried it.
        """
        newest: dict[tuple[Any, ...], CollectedPoint] = {}
        for point in self.points_named(name, **attributes):
            key = (point.service_name, point.resource.get("service.instance.id"),
                   tuple(sorted(point.attributes.items(), key=lambda item: item[0])))  # fmt: skip
            if key not in newest or point.time_unix_nano >= newest[key].time_unix_nano:
                newest[key] = point
        return list(newest.values())

    def service_names(self) -> set[str]:
        found = {span.service_name for span in self.spans}
        found |= {point.service_name for point in self.points}
        return {name for name in found if name is not None}

    def for_service(self, service_name: str) -> Telemetry:
        return Telemetry(
            [span for span in self.spans if span.service_name == service_name],
            [point for point in self.points if point.service_name == service_name],
            self.log_lines,
        )


class CollectorLogError(AssertionError):
    """The collector's debug log has a line this parser does not understand."""


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z\s+(TRACE|DEBUG|INFO|WARN|ERROR)\b")
_HEADER = re.compile(
    r"^(ResourceSpans|ResourceMetrics|ScopeSpans|ScopeMetrics|Span|Metric|SpanEvent|SpanLink"
    r"|Exemplar|(?:Number|Histogram|ExponentialHistogram|Summary)DataPoints) #(\d+)$"
)
_SCHEMA = re.compile(r"^(Resource|ScopeSpans|ScopeMetrics) SchemaURL: ?(.*)$")
_SCOPE = re.compile(r"^InstrumentationScope (\S+) ?(\S*)$")
_SECTION = re.compile(
    r"^(Resource attributes|Attributes|Data point attributes|Events|Links|Descriptor"
    r"|Exemplars|InstrumentationScope attributes):$"
)
_SPAN_FIELD = re.compile(r"^    (Trace ID|Parent ID|ID|Name|Kind|Status code|Status message"
                         r"|TraceState|Flags)\s*: ?(.*)$")  # fmt: skip
_SPAN_TIME = re.compile(r"^(Start time|End time): (\d+)$")
_ARROW = re.compile(r"^     -> ([^:]+):(:?) ?(.*)$")
_NESTED_ARROW = re.compile(r"^          -> ([^:]+?): (.*)$")
_POINT_FIELD = re.compile(r"^(StartTimestamp|Timestamp|Count|Sum|Min|Max|Value|Scale"
                          r"|ZeroCount|Flags|ZeroThreshold): (.*)$")  # fmt: skip
_BOUND = re.compile(r"^ExplicitBounds #(\d+): (.+)$")
_BUCKET = re.compile(r"^Buckets #(\d+), Count: (\d+)$")
_EXP_BUCKET = re.compile(r"^Bucket [\[(].*[\])], Count: (\d+)$")

_STRUCTURAL = (
    _LOG_LINE, _HEADER, _SCHEMA, _SCOPE, _SECTION, _SPAN_FIELD, _SPAN_TIME, _ARROW,
    _NESTED_ARROW, _POINT_FIELD, _BOUND, _BUCKET, _EXP_BUCKET,
)  # fmt: skip


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def parse_any_value(text: str) -> Any:
    """An OTLP ``AnyValue`` as rotel prints it (``Str(x)``, ``Int(3)``, ``Slice(...)``)."""
    kind, _, rest = text.partition("(")
    if not rest:
        raise CollectorLogError(f"not an attribute value: {text!r}")
    inner = rest[:-1] if rest.endswith(")") else rest
    if kind == "Str":
        return inner
    if kind == "Int":
        return int(inner)
    if kind == "Double":
        return float(inner)
    if kind == "Bool":
        if inner not in ("true", "false"):
            raise CollectorLogError(f"not a boolean: {text!r}")
        return inner == "true"
    if kind == "Slice":
        return [parse_any_value(part) for part in _split_top_level(inner)]
    raise CollectorLogError(f"unsupported attribute value type: {text!r}")


class LogParser:
    """Incremental parser of rotel's ``--debug-log-verbosity detailed`` output."""

    def __init__(self) -> None:
        self.telemetry = Telemetry()
        self._line_number = 0
        self._kind = ""  # "spans" or "metrics"
        self._resource: dict[str, Any] = {}
        self._scope = ("", "")
        self._section = ""
        self._span: CollectedSpan | None = None
        self._event: CollectedSpanEvent | None = None
        self._link: dict[str, Any] | None = None
        self._descriptor: dict[str, str] = {}
        self._point: CollectedPoint | None = None
        self._exemplar: CollectedExemplar | None = None
        self._continuation: Callable[[str], None] | None = None

    def feed(self, line: str) -> None:
        self._line_number += 1
        if not line.strip() and self._continuation is None:
            return
        if not any(pattern.match(line) for pattern in _STRUCTURAL):
            if self._continuation is None:
                raise CollectorLogError(
                    f"rotel debug log line {self._line_number} not understood: {line!r}"
                )
            self._continuation(line)
            return
        self._continuation = None
        try:
            self._structural(line)
        except (ValueError, KeyError) as exc:
            raise CollectorLogError(
                f"rotel debug log line {self._line_number}: {line!r}: {exc}"
            ) from exc

    def _structural(self, line: str) -> None:
        if _LOG_LINE.match(line):
            self.telemetry.log_lines.append(line)
            return
        header = _HEADER.match(line)
        if header:
            self._header(header.group(1))
            return
        if _SCHEMA.match(line):
            return
        scope = _SCOPE.match(line)
        if scope:
            self._scope = (scope.group(1), scope.group(2))
            self._section = ""
            return
        section = _SECTION.match(line)
        if section:
            self._section = section.group(1)
            if self._section == "Descriptor":
                self._descriptor = {}
            return
        span_field = _SPAN_FIELD.match(line)
        if span_field and self._span is not None:
            self._span_field(span_field.group(1), span_field.group(2))
            return
        span_time = _SPAN_TIME.match(line)
        if span_time and self._span is not None:
            if span_time.group(1) == "Start time":
                self._span.start_time_unix_nano = int(span_time.group(2))
            else:
                self._span.end_time_unix_nano = int(span_time.group(2))
            return
        nested = _NESTED_ARROW.match(line)
        if nested:
            self._nested_attribute(nested.group(1), nested.group(2))
            return
        arrow = _ARROW.match(line)
        if arrow:
            self._arrow(arrow.group(1), arrow.group(3))
            return
        if self._point is not None:
            self._point_line(line)
            return
        raise CollectorLogError(f"rotel debug log line {self._line_number} out of place: {line!r}")

    def _header(self, kind: str) -> None:
        self._section = ""
        self._event = self._link = None
        self._exemplar = None
        if kind in ("ResourceSpans", "ResourceMetrics"):
            self._kind = "spans" if kind == "ResourceSpans" else "metrics"
            self._resource = {}
            self._span = None
            self._point = None
        elif kind in ("ScopeSpans", "ScopeMetrics"):
            self._scope = ("", "")
            self._span = None
            self._point = None
        elif kind == "Span":
            self._span = CollectedSpan(dict(self._resource), *self._scope)
            self.telemetry.spans.append(self._span)
        elif kind == "Metric":
            self._point = None
        elif kind == "SpanEvent":
            self._require(self._span, kind)
            self._event = CollectedSpanEvent()
            self._span.events.append(self._event)  # type: ignore[union-attr]
            self._section = "SpanEvent"
        elif kind == "SpanLink":
            self._require(self._span, kind)
            self._link = {"attributes": {}}
            self._span.links.append(self._link)  # type: ignore[union-attr]
            self._section = "SpanLink"
        elif kind == "Exemplar":
            self._require(self._point, kind)
            self._exemplar = CollectedExemplar()
            self._point.exemplars.append(self._exemplar)  # type: ignore[union-attr]
            self._section = "Exemplar"
        else:  # a data point
            descriptor = self._descriptor
            monotonic = descriptor.get("IsMonotonic")
            temporality = descriptor.get("AggregationTemporality")
            self._point = CollectedPoint(
                dict(self._resource),
                *self._scope,
                name=descriptor["Name"],
                description=descriptor.get("Description", ""),
                unit=descriptor.get("Unit", ""),
                data_type=descriptor["DataType"],
                is_monotonic=None if monotonic is None else monotonic == "true",
                temporality=temporality.removeprefix("AGGREGATION_TEMPORALITY_")
                if temporality
                else None,
            )
            self.telemetry.points.append(self._point)

    def _require(self, owner: object, kind: str) -> None:
        if owner is None:
            raise CollectorLogError(f"rotel debug log line {self._line_number}: {kind} outside")

    def _span_field(self, key: str, value: str) -> None:
        span = self._span
        assert span is not None
        if key == "Trace ID":
            span.trace_id = value
        elif key == "Parent ID":
            span.parent_span_id = value or None
        elif key == "ID":
            span.span_id = value
        elif key == "Name":
            span.name = value
            self._continue(lambda more: setattr(span, "name", f"{span.name}\n{more}"))
        elif key == "Kind":
            span.kind = value.removeprefix("SPAN_KIND_")
        elif key == "Status code":
            span.status_code = value.removeprefix("STATUS_CODE_")
        elif key == "Status message":
            span.status_message = value
            self._continue(
                lambda more: setattr(span, "status_message", f"{span.status_message}\n{more}")
            )

    def _continue(self, append: Callable[[str], None]) -> None:
        self._continuation = append

    def _set_attribute(self, target: dict[str, Any], key: str, raw: str) -> None:
        text = [raw]
        target[key] = parse_any_value(raw)

        def more(line: str) -> None:
            text.append(line)
            target[key] = parse_any_value("\n".join(text))

        self._continue(more)

    def _arrow(self, key: str, value: str) -> None:
        section = self._section
        if section == "Resource attributes":
            self._set_attribute(self._resource, key, value)
        elif section == "InstrumentationScope attributes":
            return
        elif section == "Attributes" and self._span is not None:
            self._set_attribute(self._span.attributes, key, value)
        elif section == "Data point attributes" and self._point is not None:
            self._set_attribute(self._point.attributes, key, value)
        elif section == "Descriptor":
            self._descriptor[key] = value
        elif section == "SpanEvent" and self._event is not None:
            if key == "Name":
                self._event.name = value
            elif key == "Timestamp":
                self._event.timestamp_unix_nano = int(value)
            elif key == "DroppedAttributesCount":
                self._event.dropped_attributes_count = int(value)
            elif key != "Attributes":
                raise CollectorLogError(f"unknown span event field {key!r}")
        elif section == "SpanLink" and self._link is not None:
            if key != "Attributes":
                self._link[key] = value
        elif section == "Exemplar" and self._exemplar is not None:
            self._exemplar_field(key, value)
        else:
            raise CollectorLogError(
                f"rotel debug log line {self._line_number}: attribute {key!r} outside a section"
            )

    def _nested_attribute(self, key: str, value: str) -> None:
        if self._section == "SpanEvent" and self._event is not None:
            self._set_attribute(self._event.attributes, key, value)
        elif self._section == "SpanLink" and self._link is not None:
            self._set_attribute(self._link["attributes"], key, value)
        elif self._section == "Exemplar" and self._exemplar is not None:
            self._set_attribute(self._exemplar.filtered_attributes, key, value)
        else:
            raise CollectorLogError(
                f"rotel debug log line {self._line_number}: nested attribute {key!r} out of place"
            )

    def _exemplar_field(self, key: str, value: str) -> None:
        exemplar = self._exemplar
        assert exemplar is not None
        if key == "Trace ID":
            exemplar.trace_id = value
        elif key == "Span ID":
            exemplar.span_id = value
        elif key == "Timestamp":
            exemplar.timestamp_unix_nano = int(value)
        elif key == "Value":
            exemplar.value = float(value)
        elif key != "FilteredAttributes":
            raise CollectorLogError(f"unknown exemplar field {key!r}")

    def _point_line(self, line: str) -> None:
        point = self._point
        assert point is not None
        bound = _BOUND.match(line)
        if bound:
            point.explicit_bounds.append(float(bound.group(2)))
            return
        bucket = _BUCKET.match(line) or _EXP_BUCKET.match(line)
        if bucket:
            point.bucket_counts.append(int(bucket.groups()[-1]))
            return
        found = _POINT_FIELD.match(line)
        if not found:
            raise CollectorLogError(f"rotel debug log line {self._line_number}: {line!r}")
        key, value = found.groups()
        point.fields[key] = value
        if key == "StartTimestamp":
            point.start_time_unix_nano = int(value)
        elif key == "Timestamp":
            point.time_unix_nano = int(value)
        elif key == "Count":
            point.count = int(value)
        elif key == "Sum":
            point.sum = float(value)
        elif key == "Min":
            point.min = float(value)
        elif key == "Max":
            point.max = float(value)
        elif key == "Value":
            point.value = float(value)


def parse_debug_log(text: str) -> Telemetry:
    """Parse a whole (ANSI-stripped) rotel debug log."""
    parser = LogParser()
    for line in strip_ansi(text).splitlines():
        parser.feed(line)
    return parser.telemetry


_PROMETHEUS_UNITS = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": "ratio"}


def prometheus_base_name(name: str, unit: str, *, counter: bool) -> str:
    """The name the Collector's ``prometheus`` exporter gives an OTel metric.

    Dots become underscores, a unit becomes a suffix (``s`` -> ``_seconds``; annotations
    in braces such as ``{request}`` add nothing) and a monotonic sum ends in ``_total``.
    """
    base = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    suffix = _PROMETHEUS_UNITS.get(unit, "" if unit.startswith("{") or not unit else unit)
    if suffix and not base.endswith(f"_{suffix}"):
        base = f"{base}_{suffix}"
    return f"{base}_total" if counter else base


def prometheus_series_names(point: CollectedPoint) -> set[str]:
    """Every Prometheus series name the Collector would expose for this point's metric."""
    counter = point.data_type == "Sum" and bool(point.is_monotonic)
    base = prometheus_base_name(point.name, point.unit, counter=counter)
    if point.data_type in ("Histogram", "ExponentialHistogram"):
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return {base}
