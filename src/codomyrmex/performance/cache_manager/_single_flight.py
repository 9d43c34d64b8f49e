"""Single-flight: concurrent misses for one key run the computation once, for every backend.

One caller per key leads: it looks the key up again in its :class:`Source` (a memory
store or Redis), and on a miss computes, stores, then wakes the others, who get the same
value or the same exception (never cached) without touching the source. Waiters are
counted with the leader's outcome, so a burst of misses on one key counts as misses. If
the leader is interrupted by a ``BaseException`` (``KeyboardInterrupt``, a cancelled
task) a waiter takes over. A call for the key its own thread or task is computing (a
recursive function) computes on its own instead of waiting for itself.

:meth:`SingleFlight.run` serves threads and :meth:`SingleFlight.run_async` coroutines of
one event loop. They are deliberate copies of one algorithm, one blocking and one
awaiting (as ``cachetools`` keeps its sync and async decorators apart): the asyncio one is
imported only when a coroutine misses, and awaiting a thread primitive would block the
loop. A source with ``offload`` set (Redis) is read and written from coroutines in a
worker thread, so a slow network never blocks the loop.

After ``os.fork()`` the child forgets every flight and lock (:mod:`._fork`): it computes
for itself instead of waiting for a thread it does not have.
"""

from __future__ import annotations

import threading

from codomyrmex.performance.cache_manager._counts import ERROR, HIT, MISS
from codomyrmex.performance.cache_manager._fork import reset_in_child

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable, Hashable
    from typing import Any, Protocol

    from codomyrmex.performance.cache_manager._counts import Counts

    class Source(Protocol):
        """Where a leader looks a key up again and stores what it computed."""

        #: Run ``load`` and ``store`` in a worker thread when called from a coroutine.
        offload: bool

        def load(self, key: Any, counts: Counts) -> tuple[int, Any]:
            """``(HIT, value)``, ``(MISS, None)`` or ``(ERROR, None)``; never raises.

            Counts its own failures in ``counts.errors``, not the hit or miss.
            """

        def store(self, key: Any, value: Any, counts: Counts) -> None:
            """Keep what the leader computed after a MISS; never raises."""

        def abandon(self, key: Any) -> None:
            """The leader's computation failed: release what ``load`` claimed for it."""


__all__ = ["SingleFlight"]

_RETRY = -1  # the leader was interrupted: a waiter leads instead


class _Flight:
    """A computation in a thread; waiters block on ``latch``, held until it ends."""

    __slots__ = ("error", "latch", "outcome", "owner", "value")

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.latch = threading.Lock()
        self.latch.acquire()
        self.outcome = MISS
        self.value: Any = None
        self.error: Exception | None = None


class _AsyncFlight:
    """A computation in a task of one event loop; waiters await ``done``."""

    __slots__ = ("done", "error", "loop", "outcome", "owner", "value")

    def __init__(self, loop: asyncio.AbstractEventLoop, owner: asyncio.Task[Any] | None) -> None:
        self.loop = loop
        self.owner = owner
        self.done: asyncio.Future[None] = loop.create_future()
        self.outcome = MISS
        self.value: Any = None
        self.error: Exception | None = None


class SingleFlight:
    """The computations in flight of one cache, by key."""

    __slots__ = ("__weakref__", "_async_flights", "_flights", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}
        self._async_flights: dict[Hashable, _AsyncFlight] = {}
        reset_in_child(self)

    def after_fork(self) -> None:
        self._lock = threading.Lock()
        self._flights = {}
        self._async_flights = {}

    def run(self, key: Hashable, source: Source, compute: Callable[[], Any], counts: Counts) -> Any:
        """The value of ``key``: from ``source``, from a concurrent leader, or ``compute()``."""
        while True:
            with self._lock:
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = _Flight()
                    break
            if flight.owner == threading.get_ident():
                counts.by_outcome[MISS]()
                return compute()
            flight.latch.acquire()
            flight.latch.release()
            if flight.outcome != _RETRY:
                counts.by_outcome[flight.outcome]()
                if flight.error is not None:
                    raise flight.error
                return flight.value
        try:
            outcome, value = source.load(key, counts)
            flight.outcome = outcome
            if outcome != ERROR:  # an error was counted where it happened
                counts.by_outcome[outcome]()
            if outcome == HIT:
                flight.value = value
                return value
            value = compute()
        except Exception as exc:
            flight.error = exc
            source.abandon(key)
            raise
        except BaseException:
            flight.outcome = _RETRY
            source.abandon(key)
            raise
        else:
            flight.value = value
            if outcome == MISS:
                source.store(key, value, counts)
            return value
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.latch.release()

    async def run_async(
        self,
        key: Hashable,
        source: Source,
        compute: Callable[[], Awaitable[Any]],
        counts: Counts,
    ) -> Any:
        """:meth:`run` for coroutines of one event loop (the awaited result is the value)."""
        import asyncio

        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        flights = self._async_flights
        while True:
            flight = flights.get(key)
            if flight is None or flight.loop is not loop:
                break
            if flight.owner is task:
                counts.by_outcome[MISS]()
                return await compute()
            await asyncio.shield(flight.done)
            if flight.outcome != _RETRY:
                counts.by_outcome[flight.outcome]()
                if flight.error is not None:
                    raise flight.error
                return flight.value
        flight = flights[key] = _AsyncFlight(loop, task)
        try:
            if source.offload:
                outcome, value = await asyncio.to_thread(source.load, key, counts)
            else:
                outcome, value = source.load(key, counts)
            flight.outcome = outcome
            if outcome != ERROR:
                counts.by_outcome[outcome]()
            if outcome == HIT:
                flight.value = value
                return value
            value = await compute()
        except Exception as exc:
            flight.error = exc
            source.abandon(key)
            raise
        except BaseException:
            flight.outcome = _RETRY
            source.abandon(key)
            raise
        else:
            flight.value = value
            if outcome == MISS:
                if source.offload:
                    await asyncio.to_thread(source.store, key, value, counts)
                else:
                    source.store(key, value, counts)
            return value
        finally:
            if flights.get(key) is flight:
                del flights[key]
            flight.done.set_result(None)
