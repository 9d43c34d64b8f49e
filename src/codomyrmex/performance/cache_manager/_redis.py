"""Redis backend: one cache shared by every process and host that uses the same name.

Pass ``backend="redis://host:6379/0"`` (or ``rediss://``, ``unix://``), a ``redis.Redis``
client, or a :class:`RedisBackend` for options::

    from codomyrmex.performance import cached_function
    from codomyrmex.performance.cache_manager._redis import RedisBackend

    @cached_function(ttl=600, backend="redis://cache.internal:6379/0")
    def exchange_rate(currency: str) -> float: ...

    signed = RedisBackend("redis://cache.internal:6379/0", serializer="pickle",
                          hmac_key=os.environb[b"CACHE_HMAC_KEY"])

Keys are ``codomyrmex:cache:<cache name>:<digest>`` (a function sharing a named
``CacheManager`` adds its own ``<module.qualname>:`` before the digest); the digest is a
BLAKE2b hash of a canonical encoding of the arguments, the same in every process. Each
entry expires through Redis itself (``SET ... PX``).

Size: ``max_size`` is not enforced across processes (that would cost a round trip per
store); bound the memory in Redis with ``maxmemory`` and an eviction policy such as
``allkeys-lru`` or ``volatile-ttl``. Evictions and expirations happen in the server and
show in its ``INFO stats`` (``evicted_keys``, ``expired_keys``), not in this package's
counters; ``codomyrmex.cache.entries`` is not reported for Redis caches, since the
collection thread must never block on the network.

Values go through :class:`~codomyrmex.performance.cache_manager._codec.JsonCodec` unless
``serializer="pickle"`` is chosen together with an ``hmac_key``; a value the serializer
rejects is returned to the caller uncached and counted as an error.

Failures never reach the caller: a URL-built client uses short socket timeouts
(``socket_timeout=0.1`` s, no retries), every error is counted as
``codomyrmex.cache.requests{codomyrmex.cache.result="error"}`` and the call falls through
to the function. After a connection failure or timeout the backend stops trying for
``retry_after`` seconds (a circuit breaker, so a dead Redis costs one timeout per
``retry_after``, not one per call); then one call probes it, and the cache recovers as
soon as Redis answers again. A client passed in is used with its own timeouts.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from codomyrmex.performance.cache_manager._codec import (
    BadPayload,
    Codec,
    JsonCodec,
    SignedPickleCodec,
)
from codomyrmex.performance.cache_manager._decorator import single_flight
from codomyrmex.performance.cache_manager._keys import stable_digest

if TYPE_CHECKING:
    import redis

    from codomyrmex.performance.cache_manager import CacheManager

__all__ = ["KEY_PREFIX", "RedisBackend", "remote_call", "remote_wrapper"]

_logger = logging.getLogger(__name__)

KEY_PREFIX = "codomyrmex:cache"

#: Outcomes of :meth:`RedisBackend.load`.
HIT, MISS, ERROR = 0, 1, 2


class RedisBackend:
    """A Redis connection, a value codec and a circuit breaker for cached values."""

    def __init__(
        self,
        client: str | redis.Redis,
        *,
        serializer: str = "json",
        hmac_key: bytes | None = None,
        socket_timeout: float = 0.1,
        retry_after: float = 1.0,
    ) -> None:
        for label, number in (("socket_timeout", socket_timeout), ("retry_after", retry_after)):
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise TypeError(f"{label} must be a number of seconds")
            if not number > 0:
                raise ValueError(f"{label} must be positive, got {number!r}")
        self.codec: Codec = _codec(serializer, hmac_key)
        self.client = _client(client, float(socket_timeout))
        self.retry_after = float(retry_after)
        self._down_until = 0.0
        self._probe_lock = threading.Lock()
        redis_errors = _redis_errors()
        self._outage_errors: tuple[type[BaseException], ...] = redis_errors[0]
        self._command_errors: tuple[type[BaseException], ...] = redis_errors[1]

    def __repr__(self) -> str:
        pool = getattr(self.client, "connection_pool", None)
        where = pool.connection_kwargs if pool is not None else {}
        host = where.get("path") or f"{where.get('host', '?')}:{where.get('port', '?')}"
        return f"RedisBackend({host}/{where.get('db', 0)}, {type(self.codec).__name__})"

    @staticmethod
    def key(cache_name: str, digest: str, namespace: str | None = None) -> bytes:
        """The Redis key of one entry."""
        middle = f"{cache_name}:{namespace}:" if namespace is not None else f"{cache_name}:"
        return f"{KEY_PREFIX}:{middle}{digest}".encode()

    @staticmethod
    def pattern(cache_name: str, namespace: str | None = None) -> bytes:
        """A SCAN pattern matching every key of a cache (or of one function in it)."""
        middle = f"{cache_name}:{namespace}:" if namespace is not None else f"{cache_name}:"
        return _glob_escape(f"{KEY_PREFIX}:{middle}").encode() + b"*"

    def load(self, key: bytes, on_error: Callable[[], object]) -> tuple[int, Any]:
        """``(HIT, value)``, ``(MISS, None)`` or ``(ERROR, None)``; never raises.

        An entry that cannot be trusted or decoded is a miss (so it gets overwritten)
        plus a counted error; it is never unpickled.
        """
        payload = self._call(lambda: self.client.get(key), on_error)
        if payload is _FAILED:
            return ERROR, None
        if payload is None:
            return MISS, None
        try:
            return HIT, self.codec.loads(key, payload)
        except BadPayload as exc:
            _logger.warning("codomyrmex.performance: ignoring cache entry %r: %s", key, exc)
        except Exception as exc:  # a signed pickle whose class is gone, say
            _logger.warning("codomyrmex.performance: cannot decode cache entry %r: %r", key, exc)
        on_error()
        return MISS, None

    def store(
        self, key: bytes, value: Any, ttl_seconds: float | None, on_error: Callable[[], object]
    ) -> None:
        """Store ``value`` with its expiry; a value the codec rejects is skipped and counted."""
        if ttl_seconds is not None and ttl_seconds <= 0:
            return
        try:
            payload = self.codec.dumps(key, value)
        except TypeError as exc:
            _logger.debug("codomyrmex.performance: not caching %r: %s", key, exc)
            on_error()
            return
        expiry = None if ttl_seconds is None else max(1, int(ttl_seconds * 1000))
        self._call(lambda: self.client.set(key, payload, px=expiry), on_error)

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
        except self._command_errors as exc:
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


def _codec(serializer: str, hmac_key: bytes | None) -> Codec:
    if serializer == "json":
        if hmac_key is not None:
            raise ValueError("hmac_key is only used with serializer='pickle'")
        return JsonCodec()
    if serializer == "pickle":
        if hmac_key is None:
            raise ValueError(
                "serializer='pickle' needs an hmac_key: unsigned pickles from a shared "
                "Redis would let anyone who can write to it run code in this process"
            )
        return SignedPickleCodec(hmac_key)
    raise ValueError(f"serializer must be 'json' or 'pickle', got {serializer!r}")


def _client(client: Any, socket_timeout: float) -> redis.Redis:
    redis_module = _import_redis()
    if isinstance(client, str):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        built: redis.Redis = redis_module.Redis.from_url(
            client,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        return built
    if isinstance(client, redis_module.Redis):
        given: redis.Redis = client
        return given
    raise TypeError(
        f"backend must be a redis:// URL, a redis.Redis client or a RedisBackend, "
        f"not {type(client).__name__}"
    )


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError(
            "the Redis cache backend needs redis-py: pip install 'codomyrmex-performance[redis]'"
        ) from exc
    return redis


def _redis_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(errors meaning Redis is unreachable, errors of a single command)."""
    from redis import exceptions

    outage = (exceptions.ConnectionError, exceptions.TimeoutError, OSError)
    return outage, (exceptions.RedisError,)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


# -- call paths of cached functions -------------------------------------------------------
def remote_wrapper(
    func: Callable[..., Any],
    cache: CacheManager,
    *,
    namespace: str | None,
    key: Callable[..., Hashable] | None,
    typed: bool,
) -> Callable[..., Any]:
    """The caching wrapper of ``func`` for a cache whose backend is Redis."""
    remote_key = _remote_key_maker(cache, namespace, key, typed)
    if inspect.iscoroutinefunction(func):
        return _remote_async(func, cache, remote_key)
    return _remote_sync(func, cache, remote_key)


def _remote_key_maker(
    cache: CacheManager,
    namespace: str | None,
    key: Callable[..., Hashable] | None,
    typed: bool,
) -> Callable[[tuple[Any, ...], dict[str, Any]], bytes]:
    backend = cache.backend
    assert backend is not None
    name = cache.name
    if key is not None:
        return lambda args, kwargs: backend.key(
            name, stable_digest((key(*args, **kwargs),), {}, typed=typed, custom=True), namespace
        )
    return lambda args, kwargs: backend.key(
        name, stable_digest(args, kwargs, typed=typed), namespace
    )


def remote_call(
    cache: CacheManager,
    remote_key: bytes,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Look up in Redis, else call ``func`` and store its result; Redis errors fall through."""
    backend = cache.backend
    assert backend is not None
    status, value = backend.load(remote_key, cache._errors.__next__)
    if status == HIT:
        next(cache._hits)
        return value
    if status == MISS:
        next(cache._misses)
    value = func(*args, **kwargs)
    if status == MISS:
        backend.store(remote_key, value, cache.ttl_seconds, cache._errors.__next__)
    return value


def _remote_sync(
    func: Callable[..., Any],
    cache: CacheManager,
    remote_key: Callable[[tuple[Any, ...], dict[str, Any]], bytes],
) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = remote_key(args, kwargs)
        except TypeError:
            next(cache._errors)
            return func(*args, **kwargs)
        return remote_call(cache, key, func, args, kwargs)

    return wrapper


def _remote_async(
    func: Callable[..., Any],
    cache: CacheManager,
    remote_key: Callable[[tuple[Any, ...], dict[str, Any]], bytes],
) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = remote_key(args, kwargs)
        except TypeError:
            next(cache._errors)
            return await func(*args, **kwargs)
        return await single_flight(cache, key, lambda: _remote_lead(cache, key, func, args, kwargs))

    return wrapper


async def _remote_lead(
    cache: CacheManager,
    key: bytes,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[int, Any]:
    """Redis I/O runs in a worker thread so a slow Redis never blocks the event loop."""
    backend = cache.backend
    assert backend is not None
    on_error = cache._errors.__next__
    status, value = await asyncio.to_thread(backend.load, key, on_error)
    if status == HIT:
        next(cache._hits)
        return HIT, value
    if status == MISS:
        next(cache._misses)
    value = await func(*args, **kwargs)
    if status == MISS:
        await asyncio.to_thread(backend.store, key, value, cache.ttl_seconds, on_error)
    return status, value
