"""Redis backend: one cache shared by every process and host that uses the same name.

Pass ``backend="redis://host:6379/0"`` (or ``rediss://``, ``unix://``), a ``redis.Redis``
client, or a :class:`RedisBackend` for options::

    from codomyrmex.performance import cached_function
    from codomyrmex.performance.cache_manager import RedisBackend

    @cached_function(ttl=600, backend="redis://cache.internal:6379/0")
    def exchange_rate(currency: str) -> float: ...

    signed = RedisBackend("redis://cache.internal:6379/0", serializer="pickle",
                          hmac_key=os.environb[b"CACHE_HMAC_KEY"], lock_timeout=30)

Keys are ``codomyrmex:cache:<cache name>:<digest>``; a function sharing a named
``CacheManager`` adds its own ``<module.qualname>:`` before the digest. In names, ``%``
and ``:`` are written ``%25`` and ``%3A``, so no cache's keys fall inside another's (``app``
and ``app:v2`` stay apart) and ``clear()`` removes exactly its own. The digest is a BLAKE2b
hash of a canonical encoding of the arguments, the same in every process. Each entry
expires through Redis itself (``SET ... PX``).

Concurrent misses for one key run the function once per process (threads and coroutines,
as in memory). With ``lock_timeout=`` seconds, they run it once across processes too: the
first process to miss takes a Redis lock (``codomyrmex:lock:...``, ``SET NX PX``), the
others poll for its value for up to ``lock_timeout`` and then compute themselves; a lock
whose holder died expires after ``lock_timeout``.

Trust: values go through the JSON codec unless ``serializer="pickle"`` is chosen together
with an ``hmac_key``. Without an ``hmac_key`` anyone who can write to the Redis server can
set any cached (plain-data) result; with one, every entry is signed and checked before it
is decoded, and an entry that fails is a miss plus a counted error
(:mod:`codomyrmex.performance.cache_manager._codec`). At most ``max_value_bytes`` (1 MiB by
default, memcached's item limit) are read back per entry: a larger entry is a miss plus an
error, and a larger value is not stored.

Size: ``max_size`` is not enforced across processes (that would cost a round trip per
store); bound the memory in Redis with ``maxmemory`` and an eviction policy such as
``allkeys-lru`` or ``volatile-ttl``. Evictions and expirations happen in the server and
show in its ``INFO stats`` (``evicted_keys``, ``expired_keys``), not in this package's
counters; ``codomyrmex.cache.entries`` is not reported for Redis caches, since the
collection thread must never block on the network.

Failures never reach the caller: a URL-built client uses short socket timeouts
(``socket_timeout=0.1`` s, no retries), every error (Redis down, a value or argument the
serializer rejects, an entry that cannot be trusted) is counted as
``codomyrmex.cache.requests{codomyrmex.cache.result="error"}`` and the call falls through
to the function, whose result is returned uncached. After a connection failure or timeout
the backend stops trying for ``retry_after`` seconds (a circuit breaker, so a dead Redis
costs one timeout per ``retry_after``, not one per call); then one call probes it, and the
cache recovers as soon as Redis answers again. A client passed in is used with its own
timeouts.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from codomyrmex.performance.cache_manager._codec import BadPayload, Codec
from codomyrmex.performance.cache_manager._counts import ERROR, HIT, MISS, Tally
from codomyrmex.performance.cache_manager._digest import stable_digest
from codomyrmex.performance.cache_manager._fork import reset_in_child
from codomyrmex.performance.cache_manager._single_flight import SingleFlight

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Hashable
    from typing import Any

    import redis

    from codomyrmex.performance.cache_manager._counts import Counts

__all__ = ["KEY_PREFIX", "RedisBackend", "RedisStore"]

_logger = logging.getLogger(__name__)

KEY_PREFIX = "codomyrmex:cache:"
LOCK_PREFIX = b"codomyrmex:lock:"
#: memcached's default item size limit.
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
_LOCK_POLL_SECONDS = 0.05
_LONGEST_EXPIRY_MS = 2**62
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBackend:
    """A Redis connection, a value codec, a circuit breaker and an optional lock."""

    def __init__(
        self,
        client: str | redis.Redis,
        *,
        serializer: str = "json",
        hmac_key: bytes | None = None,
        socket_timeout: float = 0.1,
        retry_after: float = 1.0,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
        lock_timeout: float | None = None,
    ) -> None:
        _check_seconds("socket_timeout", socket_timeout)
        _check_seconds("retry_after", retry_after)
        if lock_timeout is not None:
            _check_seconds("lock_timeout", lock_timeout)
        if isinstance(max_value_bytes, bool) or not isinstance(max_value_bytes, int):
            raise TypeError(f"max_value_bytes must be an int, not {type(max_value_bytes).__name__}")
        if not 0 < max_value_bytes <= 512 * 1024 * 1024:
            raise ValueError(
                f"max_value_bytes must be between 1 and 512 MiB (Redis' own limit), "
                f"got {max_value_bytes!r}"
            )
        self.codec = Codec(serializer, hmac_key)
        self.client = _client(client, float(socket_timeout))
        self.retry_after = float(retry_after)
        self.max_value_bytes = max_value_bytes
        self.lock_timeout = None if lock_timeout is None else float(lock_timeout)
        self._down_until = 0.0
        self._probe_lock = threading.Lock()
        self._claims: dict[bytes, bytes] = {}
        self._release: Any = None
        self._outage_errors = _outage_errors()
        reset_in_child(self)

    def after_fork(self) -> None:
        self._probe_lock = threading.Lock()
        self._claims = {}

    def __repr__(self) -> str:
        pool = getattr(self.client, "connection_pool", None)
        where = pool.connection_kwargs if pool is not None else {}
        host = where.get("path") or f"{where.get('host', '?')}:{where.get('port', '?')}"
        return f"RedisBackend({host}/{where.get('db', 0)}, {self.codec.serializer})"

    def load(self, key: bytes, on_error: Callable[[], object]) -> tuple[int, Any]:
        """``(HIT, value)``, ``(MISS, None)`` or ``(ERROR, None)``; never raises.

        An entry that is too large, cannot be trusted or cannot be decoded is a miss (so
        it gets overwritten) plus a counted error; it is never unpickled.
        """
        limit = self.max_value_bytes
        payload = self._call(lambda: self.client.getrange(key, 0, limit), on_error)
        if payload is _FAILED:
            return ERROR, None
        if not payload:
            return MISS, None
        try:
            if len(payload) > limit:
                raise BadPayload(f"larger than max_value_bytes={limit}")
            return HIT, self.codec.loads(key, payload)
        except BadPayload as exc:
            _logger.warning("codomyrmex.performance: ignoring cache entry %r: %s", key, exc)
        on_error()
        return MISS, None

    def store(
        self, key: bytes, value: Any, ttl_seconds: float | None, on_error: Callable[[], object]
    ) -> None:
        """Store ``value`` with its expiry; a value the codec rejects is skipped and counted."""
        try:
            if ttl_seconds is not None and ttl_seconds <= 0:
                return
            try:
                payload = self.codec.dumps(key, value)
            except TypeError as exc:
                _logger.debug("codomyrmex.performance: not caching %r: %s", key, exc)
                on_error()
                return
            if len(payload) > self.max_value_bytes:
                _logger.debug("codomyrmex.performance: not caching %r: over max_value_bytes", key)
                on_error()
                return
            expiry = None if ttl_seconds is None else max(1, int(ttl_seconds * 1000))
            if expiry is not None and expiry >= _LONGEST_EXPIRY_MS:  # past Redis' range: never
                expiry = None
            self._call(lambda: self.client.set(key, payload, px=expiry), on_error)
        finally:
            self.release(key)

    def claim(self, key: bytes, on_error: Callable[[], object]) -> tuple[int, Any]:
        """After a miss, with ``lock_timeout``: lead across processes, or wait for the leader.

        ``(MISS, None)`` when this process should compute (it holds the lock, or waited
        ``lock_timeout`` in vain), else what the other process stored.
        """
        assert self.lock_timeout is not None
        lock_key = LOCK_PREFIX + key[len(KEY_PREFIX) :]
        token = os.urandom(16)
        lock_ms = max(1, int(self.lock_timeout * 1000))
        deadline = time.monotonic() + self.lock_timeout
        while True:
            taken = self._call(
                lambda: self.client.set(lock_key, token, nx=True, px=lock_ms), on_error
            )
            if taken is _FAILED:
                return MISS, None
            if taken:
                self._claims[key] = token
                return MISS, None
            if time.monotonic() >= deadline:
                return MISS, None
            time.sleep(_LOCK_POLL_SECONDS)
            outcome, value = self.load(key, on_error)
            if outcome != MISS:
                return outcome, value

    def release(self, key: bytes) -> None:
        """Give up the lock :meth:`claim` took for ``key``, if this process holds it."""
        token = self._claims.pop(key, None)
        if token is None:
            return
        if self._release is None:
            self._release = self.client.register_script(_RELEASE_SCRIPT)
        lock_key = LOCK_PREFIX + key[len(KEY_PREFIX) :]
        self._call(lambda: self._release(keys=[lock_key], args=[token]), _ignore)

    def exists(self, key: bytes, on_error: Callable[[], object]) -> bool:
        found = self._call(lambda: self.client.exists(key), on_error)
        return found is not _FAILED and bool(found)

    def delete(self, key: bytes, on_error: Callable[[], object]) -> bool:
        removed = self._call(lambda: self.client.delete(key), on_error)
        return removed is not _FAILED and bool(removed)

    def delete_matching(self, pattern: bytes, on_error: Callable[[], object]) -> int:
        """Delete every key matching ``pattern`` (SCAN + UNLINK in batches)."""

        def run() -> int:
            removed = 0
            batch: list[bytes] = []
            for key in self.client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    removed += self.client.unlink(*batch)
                    batch.clear()
            if batch:
                removed += self.client.unlink(*batch)
            return removed

        result = self._call(run, on_error)
        return 0 if result is _FAILED else int(result)

    def count_matching(self, pattern: bytes, on_error: Callable[[], object]) -> int:
        result = self._call(
            lambda: sum(1 for _ in self.client.scan_iter(match=pattern, count=500)), on_error
        )
        return 0 if result is _FAILED else int(result)

    def _call(self, operation: Callable[[], Any], on_error: Callable[[], object]) -> Any:
        """Run one Redis operation behind the circuit breaker; ``_FAILED`` on any error."""
        if self._down_until and not self._claim_probe():
            on_error()
            return _FAILED
        try:
            result = operation()
        except self._outage_errors as exc:
            self._down_until = time.monotonic() + self.retry_after
            _logger.warning(
                "codomyrmex.performance: Redis cache unavailable (%r); calling through "
                "and retrying in %.1f s",
                exc,
                self.retry_after,
            )
            on_error()
            return _FAILED
        except Exception as exc:  # a command error, or a client failing in its own way
            _logger.warning("codomyrmex.performance: Redis cache command failed: %r", exc)
            on_error()
            return _FAILED
        if self._down_until:
            self._down_until = 0.0
            _logger.info("codomyrmex.performance: Redis cache reachable again")
        return result

    def _claim_probe(self) -> bool:
        """After ``retry_after``, let exactly one caller try Redis again."""
        until = self._down_until
        now = time.monotonic()
        if now < until:
            return False
        with self._probe_lock:
            if self._down_until != until:
                return not self._down_until
            self._down_until = now + self.retry_after
        return True


_FAILED = object()


class RedisSpace:
    """The keys and counts of one function in a :class:`RedisStore`."""

    __slots__ = ("_backend", "_pattern", "counts", "make_key")

    def __init__(
        self,
        backend: RedisBackend,
        prefix: bytes,
        make_key: Callable[[tuple[Any, ...], dict[str, Any]], bytes],
        counts: Counts,
    ) -> None:
        self._backend = backend
        self._pattern = _pattern(prefix)
        self.make_key = make_key
        self.counts = counts

    def size(self) -> int:
        return self._backend.count_matching(self._pattern, _ignore)

    def clear(self) -> None:
        self._backend.delete_matching(self._pattern, self.counts.errors.__next__)


class RedisStore:
    """The entries of one cache in Redis, under its escaped name (see the module docstring)."""

    #: Loads and stores are network calls: coroutines run them in a worker thread.
    offload = True
    #: No in-process entries: every lookup asks Redis.
    entries = None
    #: Evictions and expirations happen in the server (its ``INFO stats``).
    evictions = expirations = 0

    def __init__(
        self, backend: RedisBackend, name: str, ttl_seconds: float | None, max_size: int | None
    ) -> None:
        self.backend = backend
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.max_size = max_size
        self.prefix = f"{KEY_PREFIX}{_escape(name)}:".encode()
        self.tally = Tally()
        self._flights = SingleFlight()

    # -- the decorator's contract (_decorator.Store) ---------------------------------
    def bind(
        self, label: str | None, *, key: Callable[..., Hashable] | None, typed: bool
    ) -> RedisSpace:
        """The space of one function: its own counts and key prefix when ``label`` is set."""
        if label is None:
            prefix, counts = self.prefix, self.tally.own
        else:
            prefix, counts = self.prefix + f"{_escape(label)}:".encode(), self.tally.new_function()

        def make_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
            if key is None:
                return prefix + stable_digest(args, kwargs, typed=typed).encode()
            custom = key(*args, **kwargs)
            return prefix + stable_digest((custom,), {}, typed=typed, custom=True).encode()

        return RedisSpace(self.backend, prefix, make_key, counts)

    def fetch(self, key: bytes, compute: Callable[[], Any], counts: Counts) -> Any:
        return self._flights.run(key, self, compute, counts)

    async def fetch_async(
        self, key: bytes, compute: Callable[[], Awaitable[Any]], counts: Counts
    ) -> Any:
        return await self._flights.run_async(key, self, compute, counts)

    # -- the single-flight source (_single_flight.Source) ----------------------------
    def load(self, key: bytes, counts: Counts) -> tuple[int, Any]:
        outcome, value = self.backend.load(key, counts.errors.__next__)
        if outcome == MISS and self.backend.lock_timeout is not None:
            return self.backend.claim(key, counts.errors.__next__)
        return outcome, value

    def store(self, key: bytes, value: Any, counts: Counts) -> None:
        self.backend.store(key, value, self.ttl_seconds, counts.errors.__next__)

    def abandon(self, key: bytes) -> None:
        self.backend.release(key)

    # -- the mapping API of CacheManager (keys as the user gives them) -----------------
    def get(self, key: object, default: Any) -> Any:
        outcome, value = self.backend.load(self._key_of(key), self.tally.own.errors.__next__)
        if outcome == ERROR:
            return default
        self.tally.own.by_outcome[outcome]()
        return value if outcome == HIT else default

    def put(self, key: object, value: Any, ttl: float | None) -> None:
        self.backend.store(self._key_of(key), value, ttl, self.tally.own.errors.__next__)

    def get_or_set(self, key: object, factory: Callable[[], Any]) -> Any:
        return self.fetch(self._key_of(key), factory, self.tally.own)

    def delete(self, key: object) -> bool:
        return self.backend.delete(self._key_of(key), self.tally.own.errors.__next__)

    def contains(self, key: object) -> bool:
        return self.backend.exists(self._key_of(key), self.tally.own.errors.__next__)

    def size(self) -> int:
        """Keys of this cache in Redis (a SCAN; a failure reads as 0, never as an error)."""
        return self.backend.count_matching(_pattern(self.prefix), _ignore)

    def clear(self) -> None:
        self.backend.delete_matching(_pattern(self.prefix), self.tally.own.errors.__next__)

    def _key_of(self, key: object) -> bytes:
        """The Redis key of a mapping-API key (``TypeError`` if it has no stable form)."""
        return self.prefix + stable_digest((key,), {}, typed=False, custom=True).encode()


def _check_seconds(label: str, number: object) -> None:
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise TypeError(f"{label} must be a number of seconds, not {type(number).__name__}")
    if not 0 < number < 10**9:  # also rejects nan and inf
        raise ValueError(f"{label} must be a positive, finite number of seconds, got {number!r}")


def _client(client: Any, socket_timeout: float) -> redis.Redis:
    redis_module = _import_redis()
    if isinstance(client, str):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        try:
            client.encode("utf-8")
            built: redis.Redis = redis_module.Redis.from_url(
                client,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid Redis URL {client!r}: {exc}") from None
        given = built
    elif isinstance(client, redis_module.Redis):
        given = client
    else:
        raise TypeError(
            f"backend must be a redis:// URL, a redis.Redis client or a RedisBackend, "
            f"not {type(client).__name__}"
        )
    pool = getattr(given, "connection_pool", None)
    if pool is not None and pool.connection_kwargs.get("decode_responses"):
        raise ValueError("the Redis cache needs a client with decode_responses=False (bytes)")
    return given


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError(
            "the Redis cache backend needs redis-py: pip install 'codomyrmex-performance[redis]'"
        ) from exc
    return redis


def _outage_errors() -> tuple[type[BaseException], ...]:
    """The errors meaning Redis is unreachable (the circuit breaker opens on them)."""
    from redis import exceptions

    return (exceptions.ConnectionError, exceptions.TimeoutError, OSError)


def _escape(name: str) -> str:
    """A cache or function name as a key segment: no ``:`` inside, so none nests in another."""
    return name.replace("%", "%25").replace(":", "%3A")


def _pattern(prefix: bytes) -> bytes:
    """A SCAN pattern matching every key that starts with ``prefix``."""
    escaped = bytearray()
    for byte in prefix:
        if byte in b"*?[]\\":
            escaped += b"\\"
        escaped.append(byte)
    return bytes(escaped) + b"*"


def _ignore() -> None:
    """Error callback for size probes and lock releases: never a failed lookup."""
