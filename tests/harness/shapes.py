"""The subjects of the decorator-shape battery: one body in every shape a decorator meets.

A :class:`Shape` builds its subject with a decorator applied where a user writes it
(``shape.build(decorate)``), so the same code built with :func:`undecorated` is the
original to compare with: the same code object, qualified name and first line. The shapes,
after wrapt's own test-suite: a module-level function, a nested function, an instance
method, a classmethod and a staticmethod with the decorator outside and inside
``@classmethod``/``@staticmethod``, a coroutine function, a generator function and an
async generator function.

Every subject takes ``(x, *, scale=2, fail=None)``, appends ``x`` to :data:`RUNS` each time
its body really runs, raises ``fail`` when given one (a generator after its first item)
and otherwise produces a new list ``[x, x * scale]``, which methods start with what they
are bound to (``"instance of Service"``, ``"class Service"``). ``shape.run(target, ...)``
drives a call to its end (awaits it, exhausts the generator) and returns what it produced.

:func:`assert_same_metadata` and :func:`assert_same_raise` compare a decorated build with
the original.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest

__all__ = [
    "RUNS",
    "SHAPES",
    "Built",
    "Shape",
    "ShapeError",
    "assert_same_metadata",
    "assert_same_raise",
    "code_attributes",
    "qualified_name",
    "undecorated",
]

Decorator = Callable[[Any], Any]
Kind = Literal["function", "coroutine", "generator", "async generator"]

#: The ``x`` of every call whose body ran, in order (a cache hit adds nothing).
RUNS: list[int] = []


class ShapeError(Exception):
    """An error of this module's own (``error.type`` is its qualified name)."""


def undecorated(func: Any) -> Any:
    """The identity decorator: builds a shape's original."""
    return func


def _result(x: int, scale: int, fail: BaseException | None, *bound: object) -> list[Any]:
    RUNS.append(x)
    if fail is not None:
        raise fail
    binding = [
        f"class {obj.__name__}" if isinstance(obj, type) else f"instance of {type(obj).__name__}"
        for obj in bound
    ]
    return [*binding, x, x * scale]


@dataclass(frozen=True)
class Built:
    """One build of a shape.

    ``target`` is what a user calls; ``entry_points`` every way to call it with ``(x, ...)``
    (the class and an instance, for classmethods); ``views`` every way to reach it,
    including an instance method through its class.
    """

    target: Any
    entry_points: tuple[Any, ...]
    views: tuple[Any, ...]


@dataclass(frozen=True)
class Shape:
    id: str
    kind: Kind
    make: Callable[[Decorator], Built]

    def __str__(self) -> str:
        return self.id

    @property
    def is_generator(self) -> bool:
        return self.kind in ("generator", "async generator")

    def build(self, decorate: Decorator) -> Built:
        return self.make(decorate)

    def run(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``target`` and drive the call to its end; what it produced.

        A generator gives ``(items, return value)``, an async generator its items.
        """
        if self.kind == "function":
            return target(*args, **kwargs)
        if self.kind == "coroutine":
            return asyncio.run(target(*args, **kwargs))
        if self.kind == "generator":
            return _exhaust(target(*args, **kwargs))
        return asyncio.run(_collect(target(*args, **kwargs)))

    def close_early(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Take a generator's first item, then close it; the item."""
        if self.kind == "generator":
            generator = target(*args, **kwargs)
            first = next(generator)
            generator.close()
            return first
        assert self.kind == "async generator", self.kind

        async def first_then_close() -> Any:
            generator = target(*args, **kwargs)
            first = await generator.__anext__()
            await generator.aclose()
            return first

        return asyncio.run(first_then_close())


def _exhaust(generator: Iterator[Any]) -> tuple[list[Any], Any]:
    items: list[Any] = []
    while True:
        try:
            items.append(next(generator))
        except StopIteration as stop:
            return items, stop.value


async def _collect(generator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in generator]


def work(x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
    """A module-level function."""
    return _result(x, scale, fail)


async def work_async(x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
    """A coroutine function."""
    await asyncio.sleep(0)
    return _result(x, scale, fail)


def work_generator(x: int, *, scale: int = 2, fail: BaseException | None = None) -> Iterator[Any]:
    """A generator function; returns how many items followed the first."""
    yield x
    items = _result(x, scale, fail)
    yield from items
    return len(items)


async def work_async_generator(
    x: int, *, scale: int = 2, fail: BaseException | None = None
) -> AsyncIterator[Any]:
    """An async generator function."""
    yield x
    await asyncio.sleep(0)
    for item in _result(x, scale, fail):
        yield item


def _module_level(func: Callable[..., Any]) -> Callable[[Decorator], Built]:
    def make(decorate: Decorator) -> Built:
        decorated = decorate(func)
        return Built(decorated, (decorated,), (decorated,))

    return make


def _nested(decorate: Decorator) -> Built:
    @decorate
    def nested_work(x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
        """A nested function."""
        return _result(x, scale, fail)

    return Built(nested_work, (nested_work,), (nested_work,))


def _method(decorate: Decorator) -> Built:
    class Service:
        @decorate
        def work(self, x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
            """An instance method."""
            return _result(x, scale, fail, self)

    bound = Service().work
    return Built(bound, (bound,), (bound, Service.work))


def _classmethod_outside(decorate: Decorator) -> Built:
    class Service:
        @decorate
        @classmethod
        def work(cls, x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
            """A classmethod, decorated outside."""
            return _result(x, scale, fail, cls)

    ways = (Service.work, Service().work)
    return Built(ways[0], ways, ways)


def _classmethod_inside(decorate: Decorator) -> Built:
    class Service:
        @classmethod
        @decorate
        def work(cls, x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
            """A classmethod, decorated inside."""
            return _result(x, scale, fail, cls)

    ways = (Service.work, Service().work)
    return Built(ways[0], ways, ways)


def _staticmethod_outside(decorate: Decorator) -> Built:
    class Service:
        @decorate
        @staticmethod
        def work(x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
            """A staticmethod, decorated outside."""
            return _result(x, scale, fail)

    ways = (Service.work, Service().work)
    return Built(ways[0], ways, ways)


def _staticmethod_inside(decorate: Decorator) -> Built:
    class Service:
        @staticmethod
        @decorate
        def work(x: int, *, scale: int = 2, fail: BaseException | None = None) -> list[Any]:
            """A staticmethod, decorated inside."""
            return _result(x, scale, fail)

    ways = (Service.work, Service().work)
    return Built(ways[0], ways, ways)


SHAPES = (
    Shape("function", "function", _module_level(work)),
    Shape("nested function", "function", _nested),
    Shape("method", "function", _method),
    Shape("classmethod, decorator outside", "function", _classmethod_outside),
    Shape("classmethod, decorator inside", "function", _classmethod_inside),
    Shape("staticmethod, decorator outside", "function", _staticmethod_outside),
    Shape("staticmethod, decorator inside", "function", _staticmethod_inside),
    Shape("coroutine", "coroutine", _module_level(work_async)),
    Shape("generator", "generator", _module_level(work_generator)),
    Shape("async generator", "async generator", _module_level(work_async_generator)),
)


def qualified_name(original: Built) -> str:
    """``module.Qualname`` of the original: the span name and ``code.function.name``."""
    return f"{original.target.__module__}.{original.target.__qualname__}"


def code_attributes(original: Built) -> dict[str, Any]:
    """The span attributes ``monitor`` gives a call of the original: where its code is."""
    code = original.target.__code__
    return {
        "code.function.name": qualified_name(original),
        "code.file.path": code.co_filename,
        "code.line.number": code.co_firstlineno,
    }


_PREDICATES = (inspect.iscoroutinefunction, inspect.isgeneratorfunction, inspect.isasyncgenfunction)


def assert_same_metadata(original: Built, decorated: Built) -> None:
    """Every view of ``decorated`` looks like the original's (wrapt's checks)."""
    assert len(decorated.views) == len(original.views)
    for plain, wrapped in zip(original.views, decorated.views, strict=True):
        for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
            assert getattr(wrapped, attribute) == getattr(plain, attribute), attribute
        assert inspect.signature(wrapped) == inspect.signature(plain)
        for predicate in _PREDICATES:
            assert predicate(wrapped) is predicate(plain), predicate.__name__
        assert inspect.unwrap(wrapped).__code__ is plain.__code__


def assert_same_raise(
    shape: Shape, original: Built, decorated: Built, make_error: Callable[[], BaseException]
) -> BaseException:
    """``decorated`` raises the very exception object it was given, from the same frames.

    The innermost frames (the subject's body and the helper that raised) are those of the
    original raising an equal error. Returns the exception.
    """
    error = make_error()
    with pytest.raises(type(error)) as raised:
        shape.run(decorated.target, 3, fail=error)
    assert raised.value is error
    with pytest.raises(type(error)) as plain:
        shape.run(original.target, 3, fail=make_error())

    def innermost(info: pytest.ExceptionInfo[BaseException]) -> list[tuple[str, int]]:
        return [(entry.name, entry.lineno) for entry in info.traceback[-2:]]

    assert innermost(raised) == innermost(plain)
    return error
