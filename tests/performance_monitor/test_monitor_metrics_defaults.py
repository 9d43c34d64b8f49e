"""``PerformanceMetrics`` built by hand, as the seed's dataclass listing suggests."""

from __future__ import annotations

import time

from codomyrmex.performance import PerformanceMetrics


def test_timestamp_and_metadata_default_when_built_by_hand() -> None:
    before = time.time()
    metrics = PerformanceMetrics("f", 0.25, 12.0, 40.0)
    after = time.time()
    assert before <= metrics.timestamp <= after
    assert metrics.metadata == {} and metrics.error is None
    other = PerformanceMetrics("f", 0.25, 12.0, 40.0)
    assert other.metadata is not metrics.metadata
    assert PerformanceMetrics("f", 0.25, 12.0, 40.0, 1.5).timestamp == 1.5  # positional still
