"""The one "telemetry never raises" policy, and the error helpers every layer shares.

Every module that calls OpenTelemetry (spans, instruments, exporters, callbacks) wraps the
call in ``try``/``except Exception`` and hands the exception to
:func:`report_telemetry_error`: it is logged once per exception type on the
``codomyrmex.performance`` logger (a warning naming the exception) and never re-raised,
so a broken exporter, meter or provider costs the lost data and one log line, never the
host program's call. The user's own exceptions are never passed here: they propagate
unchanged.

:func:`opentelemetry_imported` is the one "could a provider exist yet?" check: no code can
have set a tracer or meter provider before ``opentelemetry.trace`` or
``opentelemetry.metrics`` was imported, so until then callers skip OpenTelemetry entirely
(and its import cost).

:func:`encodable` is the one text policy for what this package puts into spans: a
character UTF-8 cannot encode (a lone surrogate, as ``os.fsdecode`` makes of a file name's
undecodable bytes) would make OTLP encoding refuse the whole export batch, so span names,
status descriptions and exception events get U+FFFD in its place (``fail_span`` does it
for the error path; the exporters do it for anything else that reaches them).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = [
    "encodable",
    "error_type_name",
    "fail_span",
    "opentelemetry_imported",
    "report_telemetry_error",
]

LOGGER_NAME = "codomyrmex.performance"

_reported: set[str] = set()
_modules = sys.modules


def report_telemetry_error(exc: BaseException, what: str = "telemetry") -> None:
    """Log a failing telemetry call once per exception type; never raise."""
    try:
        key = type(exc).__qualname__
        if key in _reported:
            return
        _reported.add(key)
        import logging

        logging.getLogger(LOGGER_NAME).warning(
            "codomyrmex.performance: %s failed and was skipped: %r", what, exc
        )
    except Exception:  # pragma: no cover - logging itself broken
        pass


def opentelemetry_imported() -> bool:
    """Whether anything imported the OpenTelemetry trace or metrics API yet (two dict lookups)."""
    return "opentelemetry.trace" in _modules or "opentelemetry.metrics" in _modules


def error_type_name(exc: BaseException) -> str:
    """The semantic-conventions ``error.type``: the qualified class name, builtins bare."""
    cls = type(exc)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def encodable(text: str) -> str:
    """``text`` with U+FFFD for each character UTF-8 cannot encode; ``text`` itself if none."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def fail_span(span: Span, exc: BaseException, error_type: str) -> None:
    """Mark a span failed the way OpenTelemetry instrumentations do (error path only).

    The status description and the ``exception`` event carry the message through
    :func:`encodable`, so an exception about an undecodable file name loses no span.
    """
    if span.is_recording():
        from opentelemetry.trace import Status, StatusCode

        from codomyrmex.performance import semconv

        message = str(exc)
        clean = encodable(message)
        span.set_attribute(semconv.ERROR_TYPE, error_type)
        if clean is message:
            span.record_exception(exc)
        else:
            import traceback

            stacktrace = encodable("".join(traceback.format_exception(exc)))
            span.record_exception(
                exc,
                {semconv.EXCEPTION_MESSAGE: clean, semconv.EXCEPTION_STACKTRACE: stacktrace},
            )
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {clean}"))
