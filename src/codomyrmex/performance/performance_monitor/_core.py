"""What every monitoring wrapper shares: the clocks, the history record, call sites.

Nothing here imports OpenTelemetry (see ``_binding`` for that) or ``typing``.
"""

from __future__ import annotations

import sys
import time

from codomyrmex.performance import semconv
from codomyrmex.performance._shared.callables import qualified_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import CodeType
    from typing import Any

    from opentelemetry.trace import Span

    #: One history entry, in the field order of ``_history.Record`` (which reads it by
    #: name). Recorded as a plain tuple: one allocation and one ``deque.append`` per call.
    RawRecord = tuple[
        str, float, float, float, int, str | None, int | None, int | None, Mapping[str, Any] | None
    ]


__all__ = [
    "INFINITY",
    "MAXRSS_TO_MB",
    "CallSite",
    "cpu_time",
    "nested_code",
    "peak_rss",
    "perf_counter",
    "span_ids",
]


perf_counter = time.perf_counter
INFINITY = float("inf")


#: CPU time of the calling thread (``CLOCK_THREAD_CPUTIME_ID`` where available): exact to
#: the nanosecond, unlike ``getrusage``, whose user/system split is tick-sampled and can
#: put more CPU time than wall time on a short call.
cpu_time = time.thread_time

if sys.platform == "win32":  # pragma: no cover

    def peak_rss() -> int:
        """No peak RSS figure on Windows."""
        return 0

else:
    import resource

    _getrusage = resource.getrusage
    _RUSAGE_SELF = resource.RUSAGE_SELF

    def peak_rss() -> int:
        """The process's peak resident set size (``ru_maxrss``)."""
        return _getrusage(_RUSAGE_SELF).ru_maxrss


#: ``ru_maxrss`` is in kilobytes on Linux and BSD, in bytes on macOS.
MAXRSS_TO_MB = 1.0 / (1024 * 1024) if sys.platform == "darwin" else 1.0 / 1024


def _code_location(func: Callable[..., Any]) -> tuple[str | None, int | None]:
    """File and first line of the innermost ``__wrapped__`` function, if it has code."""
    seen = 0
    while hasattr(func, "__wrapped__") and seen < 100:
        func = func.__wrapped__
        seen += 1
    code = getattr(func, "__code__", None)
    if code is None:
        code = getattr(getattr(func, "__func__", None), "__code__", None)
    if code is None:
        return None, None
    return code.co_filename, code.co_firstlineno


class CallSite:
    """Everything about a monitored callable that is computed once, at decoration.

    ``exemplar_offers`` belongs to ``_binding.Exemplars``: when each histogram bucket of
    this site's successful calls last offered its span's context (made on first use).
    ``profile_slower_than``: seconds after which a call's stacks are sampled (infinite:
    never).
    """

    __slots__ = (
        "_error_attributes",
        "exemplar_offers",
        "function_name",
        "metadata",
        "metric_attributes",
        "name",
        "profile_slower_than",
        "span_attributes",
    )

    def __init__(
        self,
        function_name: str,
        *,
        name: str | None = None,
        file_path: str | None = None,
        line_number: int | None = None,
        attributes: Mapping[str, Any] | None = None,
        profile_slower_than: float | None = None,
    ) -> None:
        self.function_name = function_name
        self.profile_slower_than = INFINITY if profile_slower_than is None else profile_slower_than
        self.name = name or function_name
        span_attributes: dict[str, Any] = {semconv.CODE_FUNCTION_NAME: function_name}
        if file_path is not None:
            span_attributes[semconv.CODE_FILE_PATH] = file_path
        if line_number is not None:
            span_attributes[semconv.CODE_LINE_NUMBER] = line_number
        if attributes:
            span_attributes.update(attributes)
        self.span_attributes = span_attributes
        self.metric_attributes = {semconv.CODE_FUNCTION_NAME: function_name}
        self.metadata: Mapping[str, Any] | None = dict(attributes) if attributes else None
        self.exemplar_offers: list[float] | None = None
        self._error_attributes: dict[str, dict[str, str]] = {}

    @classmethod
    def for_function(
        cls,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        profile_slower_than: float | None = None,
    ) -> CallSite:
        file_path, line_number = _code_location(func)
        return cls(
            qualified_name(func),
            name=name,
            file_path=file_path,
            line_number=line_number,
            attributes=attributes,
            profile_slower_than=profile_slower_than,
        )

    def error_attributes(self, error_type: str) -> dict[str, str]:
        """Histogram attributes of a failed call (one cached dict per error type)."""
        found = self._error_attributes.get(error_type)
        if found is None:
            found = {semconv.CODE_FUNCTION_NAME: self.function_name, semconv.ERROR_TYPE: error_type}
            self._error_attributes[error_type] = found
        return found


def span_ids(span: Span) -> tuple[int | None, int | None]:
    """Trace and span id of a recording span, else (None, None)."""
    if span.is_recording():
        context = span.get_span_context()
        return context.trace_id, context.span_id
    return None, None


def nested_code(function: Callable[..., Any], name: str) -> CodeType:
    """The code of the function ``name`` defined inside ``function`` (a closure's code)."""
    code_type = type(function.__code__)
    return next(
        const
        for const in function.__code__.co_consts
        if isinstance(const, code_type) and const.co_name == name
    )
