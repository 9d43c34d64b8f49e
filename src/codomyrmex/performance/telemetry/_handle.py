"""What ``configure_telemetry`` returns: a handle to flush and shut down, and span accounting.

``shutdown()`` and ``force_flush()`` run the SDK calls in a daemon thread and stop waiting
at the timeout, so an unreachable collector never holds up the host program's exit.

Processes: a forked child starts with fresh locks and span counts (the SDK's batch
processors restart their queue and thread in it), exports its own spans, and shuts its
copy of the handle down when it exits normally (``atexit``) or, as a child started by
``multiprocessing`` (which leaves through ``os._exit``), when ``multiprocessing`` runs
its exit finalizers. A child leaving through ``os._exit`` itself, or killed, must call
``handle.force_flush()`` first.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

__all__ = ["SpanCounter", "TelemetryHandle", "TelemetryStats", "at_fork_in_child"]

_logger = logging.getLogger("codomyrmex.performance.telemetry")


def at_fork_in_child(method: Callable[[], object]) -> None:
    """Call the bound ``method`` in every forked child, for as long as its object lives."""
    if not hasattr(os, "register_at_fork"):  # pragma: no cover - Windows has no fork
        return
    reference = weakref.WeakMethod(method)

    def in_child() -> None:
        alive = reference()
        if alive is not None:
            alive()

    os.register_at_fork(after_in_child=in_child)


@dataclass(frozen=True)
class TelemetryStats:
    """Span accounting of one ``configure_telemetry`` handle.

    ``dropped`` counts spans that ended but never reached the exporter (queue overflow,
    or still queued when shutdown gave up); ``failed`` counts spans whose export failed
    (collector unreachable). Before shutdown, spans still queued count as neither.
    """

    ended: int
    exported: int
    failed: int
    dropped: int


class TelemetryHandle:
    """What ``configure_telemetry`` set up: flush it, shut it down, read its span counts."""

    def __init__(
        self,
        tracer_provider: Any,
        meter_provider: Any,
        *,
        destination: str,
        owns_tracer_provider: bool,
        owns_meter_provider: bool,
        processors: Sequence[SpanProcessor] = (),
        counter: SpanCounter | None = None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        #: Where spans and metrics go: an OTLP URL, a directory, ``console`` or ``none``.
        self.destination = destination
        self._owns_tracer_provider = owns_tracer_provider
        self._owns_meter_provider = owns_meter_provider
        self._processors = list(processors)
        self._counter = counter
        self._shut_down = False
        self._shutdown_lock = threading.Lock()

    def _follow_processes(self) -> None:
        """Make forked children flush what they record (see the module documentation)."""
        at_fork_in_child(self._after_fork)
        import multiprocessing.util

        multiprocessing.util.register_after_fork(self, TelemetryHandle._in_multiprocessing_child)

    def _after_fork(self) -> None:
        self._shutdown_lock = threading.Lock()
        if self._counter is not None:
            self._counter.restart()

    def _in_multiprocessing_child(self) -> None:
        import multiprocessing.util

        multiprocessing.util.Finalize(self, self.shutdown, exitpriority=10)

    def __repr__(self) -> str:
        stats = self.stats()
        state = "shut down" if self._shut_down else "running"
        return (
            f"<TelemetryHandle {state} destination={self.destination!r} spans: "
            f"{stats.ended} ended, {stats.exported} exported, {stats.failed} failed, "
            f"{stats.dropped} dropped>"
        )

    def stats(self) -> TelemetryStats:
        """Spans ended, exported, failed and dropped so far."""
        counter = self._counter
        if counter is None:
            return TelemetryStats(0, 0, 0, 0)
        return counter.snapshot(final=self._shut_down)

    @property
    def dropped_spans(self) -> int:
        """Spans that were lost: dropped from a full queue or failed to export."""
        stats = self.stats()
        return stats.dropped + stats.failed

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Export everything queued; True when all of it was handed over in time."""
        targets: list[Callable[[], Any]] = [
            *(lambda p=p: p.force_flush(timeout_millis) for p in self._processors),
        ]
        if self.meter_provider is not None and hasattr(self.meter_provider, "force_flush"):
            targets.append(lambda: self.meter_provider.force_flush(timeout_millis))
        return _run_bounded(targets, timeout_millis)

    def shutdown(self, timeout_millis: int = 10_000) -> bool:
        """Flush and stop exporting; returns within ``timeout_millis`` whatever the collector does.

        Only what this handle created is shut down: processors added to a provider the host
        program owns are removed from service, the host's own provider keeps running.
        """
        with self._shutdown_lock:
            if self._shut_down:
                return True
            self._shut_down = True
        targets: list[Callable[[], Any]] = []
        if self._owns_tracer_provider:
            targets.append(self.tracer_provider.shutdown)
        else:
            targets.extend(p.shutdown for p in self._processors)
        if self._owns_meter_provider:
            targets.append(lambda: self.meter_provider.shutdown(timeout_millis=timeout_millis))
        done = _run_bounded(targets, timeout_millis)
        lost = self.dropped_spans
        if lost:
            _logger.warning(
                "codomyrmex.performance: %d span(s) were not delivered to %s "
                "(queue full or exporter failing)",
                lost,
                self.destination,
            )
        return done


def _run_bounded(targets: Sequence[Callable[[], Any]], timeout_millis: int) -> bool:
    """Run the callables in a daemon thread; give up waiting after the timeout."""
    errors: list[BaseException] = []

    def work() -> None:
        for target in targets:
            try:
                target()
            except Exception as exc:  # telemetry never raises into the host program
                errors.append(exc)

    worker = threading.Thread(target=work, name="codomyrmex-telemetry-shutdown", daemon=True)
    worker.start()
    # Keep a little of the budget (50 ms, a tenth of a small one) for the bookkeeping
    # after giving up, so that the whole call returns within ``timeout_millis``.
    timeout_millis = max(timeout_millis, 0)
    worker.join((timeout_millis - min(50, timeout_millis // 10)) / 1000.0)
    for exc in errors:
        _logger.warning("codomyrmex.performance: telemetry flush/shutdown failed: %r", exc)
    return not worker.is_alive() and not errors


class SpanCounter:
    """Counts sampled spans as they end and as the exporter takes them."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """Count from zero with a new lock (in a forked child: the parent's spans are not its)."""
        self._lock = threading.Lock()
        self.ended = 0
        self.exported = 0
        self.failed = 0

    def snapshot(self, *, final: bool) -> TelemetryStats:
        with self._lock:
            ended, exported, failed = self.ended, self.exported, self.failed
        dropped = max(ended - exported - failed, 0) if final else 0
        return TelemetryStats(ended, exported, failed, dropped)
