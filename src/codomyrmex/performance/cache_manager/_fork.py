"""What a forked child must not inherit mid-operation: held locks and computations in flight.

``os.fork()`` copies only the thread that calls it. A lock another thread held at that
moment stays held forever in the child, and the single-flight record of a computation
running in another thread would make a child asking for that key wait forever. Objects
holding such state call :func:`reset_in_child` once; in every child, ``after_fork()`` is
called on each of them (``os.register_at_fork``) before the child runs any other code,
so the child starts with fresh locks and computes for itself.
"""

from __future__ import annotations

import os
import threading
import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class AfterFork(Protocol):
        def after_fork(self) -> None:
            """Replace locks and forget computations of threads the child does not have."""


__all__ = ["reset_in_child"]

_objects: weakref.WeakSet[AfterFork] = weakref.WeakSet()
_lock = threading.Lock()


def reset_in_child(obj: AfterFork) -> None:
    """Call ``obj.after_fork()`` in every child forked from now on (held weakly)."""
    with _lock:
        _objects.add(obj)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    for obj in list(_objects):
        obj.after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
