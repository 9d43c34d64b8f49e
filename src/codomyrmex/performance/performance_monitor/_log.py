"""``log_file=``: every recorded call appended to a file as one JSON line, in batches."""

from __future__ import annotations

import atexit
import errno
import os
import stat
import threading
import weakref
from collections import deque

from codomyrmex.performance._safe import report_telemetry_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

    from codomyrmex.performance.performance_monitor._core import RawRecord

__all__ = ["LOG_BATCH", "CallLog"]

#: Calls buffered before the log file is appended to.
LOG_BATCH = 256


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_for_append(path: Path) -> TextIO:
    """Open ``path`` for appending (created if missing); only a regular file will do.

    Never blocks: the open is non-blocking, so a FIFO without a reader fails at once
    instead of waiting for one. ``ValueError`` naming the path for a FIFO, socket or
    device; ``OSError`` naming it when it cannot be opened.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: a FIFO or socket with no reader
            raise
        raise ValueError(
            f"log_file must be a regular file: {path} is {_kind(os.stat(path).st_mode)}"
        ) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"log_file must be a regular file: {path} is {_kind(mode)}")
        os.set_blocking(descriptor, True)
        return open(descriptor, "a", encoding="utf-8")
    except BaseException:
        os.close(descriptor)
        raise


class CallLog:
    """Appends recorded calls to a file as JSON lines, in batches.

    The file is opened for appending (created if missing) when the log is made, so a
    path that cannot be written raises there (``FileNotFoundError`` for a missing
    directory, ``IsADirectoryError``, ``PermissionError``, naming the path; ``ValueError``
    for a FIFO, socket or device) instead of every line being dropped later, and never
    blocks. After that it never raises: a log that stops being writable (or is replaced
    by something that is not a regular file) is reported once and dropped.
    """

    def __init__(self, path: Path, epoch_offset: float) -> None:
        open_for_append(path).close()
        self.path = path
        self._epoch_offset = epoch_offset
        self._pending: deque[RawRecord] = deque()
        self._lock = threading.Lock()
        self._broken = False
        atexit.register(_flush_at_exit, weakref.ref(self))

    def append(self, record: RawRecord) -> None:
        self._pending.append(record)
        if len(self._pending) >= LOG_BATCH:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            records: list[RawRecord] = []
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
                with open_for_append(self.path) as handle:
                    handle.write(lines)
            except Exception as failure:
                self._broken = True
                report_telemetry_error(failure)


def _flush_at_exit(ref: weakref.ref[CallLog]) -> None:
    log = ref()
    if log is not None:
        log.flush()
