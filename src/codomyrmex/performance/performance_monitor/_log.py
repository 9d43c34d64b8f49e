"""``log_file=``: every recorded call appended to a file as one JSON line, in batches."""

from __future__ import annotations

import atexit
import threading
import weakref
from collections import deque

from codomyrmex.performance._safe import report_telemetry_error
from codomyrmex.performance.performance_monitor._core import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["LOG_BATCH", "CallLog"]

#: Calls buffered before the log file is appended to.
LOG_BATCH = 256


class CallLog:
    """Appends recorded calls to a file as JSON lines, in batches.

    The file is opened once for appending (created if missing) when the log is made, so
    a path that cannot be written raises there (``FileNotFoundError`` for a missing
    directory, ``IsADirectoryError``, ``PermissionError``, naming the path) instead of
    every line being dropped later. After that it never raises: a log that stops being
    writable is reported once and dropped.
    """

    def __init__(self, path: Path, epoch_offset: float) -> None:
        with open(path, "a", encoding="utf-8"):
            pass
        self.path = path
        self._epoch_offset = epoch_offset
        self._pending: deque[Record] = deque()
        self._lock = threading.Lock()
        self._broken = False
        atexit.register(_flush_at_exit, weakref.ref(self))

    def append(self, record: Record) -> None:
        self._pending.append(record)
        if len(self._pending) >= LOG_BATCH:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            records: list[Record] = []
            pending = self._pending
            while pending:
                records.append(pending.popleft())
            if not records or self._broken:
                return
            try:
                import json

                from codomyrmex.performance.performance_monitor._history import to_metrics

                lines = "".join(
                    json.dumps(to_metrics(record, self._epoch_offset).to_dict(), default=str) + "\n"
                    for record in records
                )
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(lines)
            except Exception as failure:
                self._broken = True
                report_telemetry_error(failure)


def _flush_at_exit(ref: weakref.ref[CallLog]) -> None:
    log = ref()
    if log is not None:
        log.flush()
