"""How this package names a callable: ``module.Qualname``, used by spans, metrics and caches."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["qualified_name"]


def qualified_name(func: Callable[..., Any]) -> str:
    """``module.Qualname`` of a function (the span name and ``code.function.name``)."""
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not isinstance(qualname, str):
        qualname = type(func).__qualname__
    module = getattr(func, "__module__", None)
    if module is None and hasattr(func, "__self__"):  # methods of builtin types
        module = type(func.__self__).__module__
    return f"{module}.{qualname}" if isinstance(module, str) and module else qualname
