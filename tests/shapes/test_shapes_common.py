"""Every decorator of the package on every function shape: it looks and acts like the original.

For ``monitor``, ``cached_function`` (bare and called) and ``ResourceTracker`` used as a
decorator: the wrapper keeps ``__name__``, ``__qualname__``, ``__doc__``, ``__module__``,
``inspect.signature``, what ``inspect.iscoroutinefunction``/``isgeneratorfunction``/
``isasyncgenfunction`` say and ``__wrapped__`` down to the original code; calls through
every entry point (class and instance) bind like the original's and produce the same;
the original's exception comes out as the same object from the same frames. Shapes a
decorator does not take are refused when decorating, with a ``TypeError`` naming why.
The telemetry of each decorator is checked in the ``test_shapes_<decorator>`` modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from codomyrmex.performance import PerformanceMonitor, ResourceTracker, cached_function
from harness.shapes import (
    SHAPES,
    Shape,
    ShapeError,
    assert_same_metadata,
    assert_same_raise,
    undecorated,
)

DECORATORS: dict[str, Callable[[], Callable[[Any], Any]]] = {
    "monitor": lambda: PerformanceMonitor().monitor,
    "monitor(name=...)": lambda: PerformanceMonitor().monitor(name="shape.call"),
    "cached_function": lambda: cached_function,
    "cached_function(...)": lambda: cached_function(ttl=60, max_size=4),
    "ResourceTracker": lambda: ResourceTracker(sample_interval=0.01),
}

#: What each decorator refuses, and the words of its TypeError.
REFUSED = {
    ("cached_function", "generator"): "cannot cache generator function",
    ("cached_function", "async generator"): "cannot cache generator function",
    ("cached_function(...)", "generator"): "cannot cache generator function",
    ("cached_function(...)", "async generator"): "cannot cache generator function",
    ("ResourceTracker", "async generator"): "cannot decorate async generator functions",
}

SUPPORTED = [
    pytest.param(decorator, shape, id=f"{decorator}-{shape}")
    for decorator in DECORATORS
    for shape in SHAPES
    if (decorator, shape.kind) not in REFUSED
]

ERRORS = [
    pytest.param(lambda: ShapeError("boom"), id="own error"),
    pytest.param(lambda: ValueError("bad value"), id="builtin error"),
    pytest.param(lambda: KeyboardInterrupt(), id="BaseException"),
]


@pytest.mark.parametrize(("decorator", "shape"), SUPPORTED)
def test_the_wrapper_looks_like_the_original(decorator: str, shape: Shape) -> None:
    assert_same_metadata(shape.build(undecorated), shape.build(DECORATORS[decorator]()))


@pytest.mark.parametrize(("decorator", "shape"), SUPPORTED)
def test_calls_bind_and_produce_what_the_original_does(decorator: str, shape: Shape) -> None:
    original = shape.build(undecorated)
    decorated = shape.build(DECORATORS[decorator]())
    for plain, wrapped in zip(original.entry_points, decorated.entry_points, strict=True):
        expected = shape.run(plain, 3, scale=5)
        assert shape.run(wrapped, 3, scale=5) == expected
        assert shape.run(wrapped, 4) == shape.run(plain, 4)


@pytest.mark.parametrize("make_error", ERRORS)
@pytest.mark.parametrize(("decorator", "shape"), SUPPORTED)
def test_the_original_exception_comes_out(
    decorator: str, shape: Shape, make_error: Callable[[], BaseException]
) -> None:
    original = shape.build(undecorated)
    assert_same_raise(shape, original, shape.build(DECORATORS[decorator]()), make_error)


@pytest.mark.parametrize(
    ("decorator", "shape"),
    [
        pytest.param(decorator, shape, id=f"{decorator}-{shape}")
        for decorator in DECORATORS
        for shape in SHAPES
        if (decorator, shape.kind) in REFUSED
    ],
)
def test_refused_shapes_are_refused_when_decorating(decorator: str, shape: Shape) -> None:
    with pytest.raises(TypeError, match=REFUSED[decorator, shape.kind]):
        shape.build(DECORATORS[decorator]())
