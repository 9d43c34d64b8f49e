"""``cached_function`` on every function shape it takes: caching and its exact telemetry.

The first call runs the body (a miss), the second returns the very same object without
running it (a hit); a failed call is never cached, so the next one runs and fails again.
Each decorated function has its own cache, named ``module.Qualname`` unless ``name=``
says otherwise; its lookups are the ``codomyrmex.cache.requests`` points (``hit``/``miss``;
``error`` stays 0) and its size ``codomyrmex.cache.entries``. Caching alone makes no span
and no duration point. Generator and async generator functions are refused
(``test_shapes_common``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from codomyrmex.performance import CacheManager, cached_function
from harness.metrics import MetricsProbe
from harness.monitor import DURATION
from harness.shapes import RUNS, SHAPES, Shape, ShapeError, qualified_name, undecorated

CACHED = [shape for shape in SHAPES if not shape.is_generator]
FORMS: dict[str, tuple[Callable[[], Callable[[Any], Any]], int]] = {
    "bare": (lambda: cached_function, 128),
    "called": (lambda: cached_function(ttl=60, max_size=4), 4),
}


def requests(probe: MetricsProbe, name: str) -> dict[str, int]:
    """The lookups of the cache named ``name`` since the last reading, by result."""
    found: dict[str, int] = {}
    for point in probe.points("codomyrmex.cache.requests", **{"codomyrmex.cache.name": name}):
        assert point.unit == "{request}"
        assert point.scope == "codomyrmex.performance"
        assert set(point.attributes) == {"codomyrmex.cache.name", "codomyrmex.cache.result"}
        result = point.attributes["codomyrmex.cache.result"]
        assert result not in found
        found[result] = point.point.value
    return found


def entries(probe: MetricsProbe, name: str) -> int:
    (point,) = probe.points("codomyrmex.cache.entries", **{"codomyrmex.cache.name": name})
    assert point.unit == "{entry}"
    value: int = point.point.value
    return value


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("shape", CACHED, ids=str)
def test_the_second_call_is_a_hit(shape: Shape, form: str, spans: Any) -> None:
    original = shape.build(undecorated)
    expected = shape.run(original.target, 3, scale=5)
    decorator, maxsize = FORMS[form]
    cached = shape.build(decorator())
    cache = cached.target.cache
    assert isinstance(cache, CacheManager)
    assert cache.name == qualified_name(original)

    runs = len(RUNS)
    first = shape.run(cached.target, 3, scale=5)
    assert first == expected
    assert len(RUNS) == runs + 1
    assert cached.target.cache_info() == (0, 1, maxsize, 1)
    second = shape.run(cached.target, 3, scale=5)
    assert second is first
    assert len(RUNS) == runs + 1
    assert cached.target.cache_info() == (1, 1, maxsize, 1)
    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize("shape", CACHED, ids=str)
def test_lookups_are_counted_by_result(
    shape: Shape, cache_name: str, spans: Any, metric_probe: MetricsProbe
) -> None:
    cached = shape.build(cached_function(name=cache_name))
    assert cached.target.cache.name == cache_name
    shape.run(cached.target, 3)
    assert requests(metric_probe, cache_name) == {"hit": 0, "miss": 1, "error": 0}
    shape.run(cached.target, 3)
    assert requests(metric_probe, cache_name) == {"hit": 1, "miss": 0, "error": 0}
    shape.run(cached.target, 3)
    shape.run(cached.target, 4)
    assert requests(metric_probe, cache_name) == {"hit": 1, "miss": 1, "error": 0}
    assert entries(metric_probe, cache_name) == 2
    assert metric_probe.points(DURATION) == []
    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize("shape", CACHED, ids=str)
def test_every_entry_point_shares_the_cache(
    shape: Shape, cache_name: str, metric_probe: MetricsProbe
) -> None:
    cached = shape.build(cached_function(name=cache_name))
    results = [shape.run(entry_point, 3) for entry_point in cached.entry_points]
    assert all(result is results[0] for result in results)
    hits = len(cached.entry_points) - 1
    assert cached.target.cache_info() == (hits, 1, 128, 1)
    assert requests(metric_probe, cache_name) == {"hit": hits, "miss": 1, "error": 0}


@pytest.mark.parametrize("shape", CACHED, ids=str)
def test_a_failed_call_is_not_cached(
    shape: Shape, cache_name: str, spans: Any, metric_probe: MetricsProbe
) -> None:
    cached = shape.build(cached_function(name=cache_name))
    error = ShapeError("boom")
    runs = len(RUNS)
    for _ in range(2):
        with pytest.raises(ShapeError) as raised:
            shape.run(cached.target, 3, fail=error)
        assert raised.value is error
    assert len(RUNS) == runs + 2
    assert cached.target.cache_info() == (0, 2, 128, 0)
    assert requests(metric_probe, cache_name) == {"hit": 0, "miss": 2, "error": 0}
    assert entries(metric_probe, cache_name) == 0
    assert metric_probe.points(DURATION) == []
    assert spans.get_finished_spans() == ()
