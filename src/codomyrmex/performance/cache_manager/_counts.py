"""Lookup outcomes and the counters that record them, shared by every cache path.

A lookup ends as :data:`HIT`, :data:`MISS` or :data:`ERROR` (the backend could not be
asked); the codes index :attr:`Counts.by_outcome`. Counters are ``itertools.count``
objects: ``next()`` on one is a single C call and atomic in CPython, so a hit costs no lock
and threads lose no count.
"""

from __future__ import annotations

import itertools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ERROR", "HIT", "MISS", "Counts", "Tally", "read_count"]

HIT, MISS, ERROR = 0, 1, 2


class Counts:
    """Hits, misses and errors of one cache, or of one function sharing a cache."""

    __slots__ = ("by_outcome", "errors", "hits", "misses")

    def __init__(self) -> None:
        self.hits = itertools.count()
        self.misses = itertools.count()
        self.errors = itertools.count()
        #: One step of the counter of each outcome, indexed by ``HIT``, ``MISS``, ``ERROR``.
        self.by_outcome: tuple[Callable[[], int], ...] = (
            self.hits.__next__,
            self.misses.__next__,
            self.errors.__next__,
        )

    def read(self) -> tuple[int, int, int]:
        """``(hits, misses, errors)`` so far."""
        return read_count(self.hits), read_count(self.misses), read_count(self.errors)


class Tally:
    """The counts of one cache: its own, plus one per function sharing it."""

    __slots__ = ("_functions", "own")

    def __init__(self) -> None:
        #: Lookups of the mapping API and of a function that owns the cache.
        self.own = Counts()
        self._functions: list[Counts] = []

    def new_function(self) -> Counts:
        """Counts for one more function sharing the cache (``cache_info()`` reads them)."""
        counts = Counts()
        self._functions.append(counts)
        return counts

    def totals(self) -> tuple[int, int, int]:
        """``(hits, misses, errors)`` of every lookup, by any function or the mapping API."""
        hits, misses, errors = self.own.read()
        for counts in self._functions:
            more = counts.read()
            hits, misses, errors = hits + more[0], misses + more[1], errors + more[2]
        return hits, misses, errors


def read_count(counter: itertools.count[int]) -> int:
    """The next value an ``itertools.count`` would give, without consuming it."""
    return int(repr(counter)[6:-1])
