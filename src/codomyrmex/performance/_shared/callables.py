"""What the decorators need to know of a callable: its name, its shape, how to call a proxy.

``qualified_name`` is ``module.Qualname`` (span names, ``code.function.name``, cache
names); ``code_flags`` the coroutine/generator flags that choose a wrapper's shape (what
``inspect.iscoroutinefunction`` and friends read, without importing ``inspect``);
``calling_through`` a plain function that calls a decorator's proxy of a class- or
staticmethod, so that a decorator stacked over another one keeps it in the call path.
"""

from __future__ import annotations

import functools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "CO_ASYNC_GENERATOR",
    "CO_COROUTINE",
    "CO_GENERATOR",
    "calling_through",
    "code_flags",
    "qualified_name",
]

CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR = 0x20, 0x80, 0x200


def qualified_name(func: Callable[..., Any]) -> str:
    """``module.Qualname`` of a function (the span name and ``code.function.name``)."""
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not isinstance(qualname, str):
        qualname = type(func).__qualname__
    module = getattr(func, "__module__", None)
    if module is None and hasattr(func, "__self__"):  # methods of builtin types
        module = type(func.__self__).__module__
    return f"{module}.{qualname}" if isinstance(module, str) and module else qualname


def code_flags(func: object) -> int:
    """The coroutine/generator flags of ``func``'s code, through partials and bound methods."""
    target: Any = func
    for _ in range(100):  # bounded: an object may claim to wrap itself
        if isinstance(target, functools.partial):
            target = target.func
        elif hasattr(target, "__func__"):
            target = target.__func__
        else:
            break
    flags = getattr(getattr(target, "__code__", None), "co_flags", 0)
    return flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR) if type(flags) is int else 0


def calling_through(descriptor: Any) -> tuple[type[Any], Callable[..., Any]]:
    """A plain function calling a decorator's proxy of a class- or staticmethod, and its kind.

    Such a proxy (wrapt's ``FunctionWrapper``) says it is a ``classmethod`` or
    ``staticmethod`` but is not one, and binds itself when accessed: the function binds it
    the same way on each call (a classmethod's class comes first, so it is part of a cache
    key). A coroutine function's stays a coroutine function. Re-wrap it in the kind.
    """
    binds_class = isinstance(descriptor, classmethod)

    def bound(args: tuple[Any, ...]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if binds_class:
            return descriptor.__get__(None, args[0]), args[1:]
        return descriptor.__get__(None, object), args

    call: Callable[..., Any]
    if code_flags(descriptor) & CO_COROUTINE:

        async def call_async(*args: Any, **kwargs: Any) -> Any:
            method, rest = bound(args)
            return await method(*rest, **kwargs)

        call = call_async
    else:

        def call_sync(*args: Any, **kwargs: Any) -> Any:
            method, rest = bound(args)
            return method(*rest, **kwargs)

        call = call_sync
    functools.update_wrapper(call, descriptor)
    return (classmethod if binds_class else staticmethod), call
