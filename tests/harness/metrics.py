"""Reading what an ``InMemoryMetricReader`` collected, point by point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader


@dataclass(frozen=True)
class MetricPoint:
    """One data point with the metric it belongs to."""

    name: str
    unit: str
    scope: str
    scope_version: str | None
    attributes: dict[str, Any]
    point: Any


class MetricsProbe:
    """Reads what the session's ``InMemoryMetricReader`` collected since the last read."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        self.reader = reader

    def collect(self) -> list[MetricPoint]:
        data = self.reader.get_metrics_data()
        found: list[MetricPoint] = []
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for point in metric.data.data_points:
                        found.append(
                            MetricPoint(
                                name=metric.name,
                                unit=metric.unit,
                                scope=scope_metrics.scope.name,
                                scope_version=scope_metrics.scope.version,
                                attributes=dict(point.attributes or {}),
                                point=point,
                            )
                        )
        return found

    def points(self, name: str, **attributes: Any) -> list[MetricPoint]:
        """Points of one metric whose attributes include the given ones (a new reading)."""
        return select(self.collect(), name, **attributes)


def select(points: list[MetricPoint], name: str, **attributes: Any) -> list[MetricPoint]:
    """The points of one metric whose attributes include the given ones.

    To look at several metrics of one reading: ``collected = probe.collect()``, then
    ``select(collected, ...)`` for each (every ``probe.points`` call is a new reading).
    """
    return [
        p
        for p in points
        if p.name == name
        and all(p.attributes.get(key) == value for key, value in attributes.items())
    ]
