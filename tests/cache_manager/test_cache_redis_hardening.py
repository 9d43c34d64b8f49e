"""Redis cache defects found by fault injection: each reproduced against a real redis-server."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codomyrmex.performance import CacheManager, cached_function
from codomyrmex.performance.cache_manager import RedisBackend
from harness.subprocesses import run_python

if TYPE_CHECKING:
    from harness.redis_server import RedisServer

HMAC_KEY = b"hardening-hmac-key-0123"
THREADS = 8


def raw(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def cyclic() -> list[Any]:
    looped: list[Any] = [1]
    looped.append(looped)
    return looped


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


# -- codec and key failures after the function ran -----------------------------------------
@pytest.mark.parametrize(
    "make_value",
    [lambda: 10**5000, cyclic, lambda: nested(3000), lambda: {"deep": nested(3000)}],
    ids=["long-int", "cyclic", "deep", "deep-in-dict"],
)
def test_a_value_the_codec_rejects_is_returned_uncached_and_counted(
    redis_server: RedisServer, make_value: Any
) -> None:
    calls: list[int] = []

    @cached_function(backend=redis_server.url, name="test-hardening-value")
    def compute(x: int) -> Any:
        calls.append(x)
        return make_value()

    first = compute(1)
    second = compute(1)
    assert type(first) is type(second)
    assert calls == [1, 1]
    stats = compute.cache.stats()
    assert (stats.hits, stats.misses, stats.errors) == (0, 2, 2)
    assert raw(redis_server).keys("*") == []


@pytest.mark.parametrize(
    ("make_argument", "cached"),
    [(lambda: 10**5000, True), (cyclic, False), (lambda: nested(3000), False)],
    ids=["long-int", "cyclic", "deep"],
)
def test_arguments_that_break_the_digest_never_escape(
    redis_server: RedisServer, make_argument: Any, cached: bool
) -> None:
    calls: list[int] = []

    @cached_function(backend=redis_server.url, name="test-hardening-argument")
    def compute(x: Any) -> str:
        calls.append(1)
        return "done"

    argument = make_argument()
    assert compute(argument) == compute(argument) == "done"
    stats = compute.cache.stats()
    if cached:  # a long int has a digest (hexadecimal): the second call is a hit
        assert (len(calls), stats.hits, stats.errors) == (1, 1, 0)
    else:
        assert (len(calls), stats.hits, stats.errors) == (2, 0, 2)


# -- namespaces ----------------------------------------------------------------------------
def test_clearing_a_cache_never_touches_a_cache_whose_name_extends_it(
    redis_server: RedisServer,
) -> None:
    app = cached_function(backend=redis_server.url, name="app")(lambda x: ("app", x))
    app_v2 = cached_function(backend=redis_server.url, name="app:v2")(lambda x: ("v2", x))
    app(1)
    app_v2(1)
    app.cache_clear()
    assert app_v2.cache_info().currsize == 1
    assert len(app_v2.cache) == 1
    app_v2.cache.clear()
    app(1)
    CacheManager(backend=redis_server.url, name="app:v2").clear()
    assert app.cache_info().currsize == 1


def test_a_function_in_a_shared_cache_never_reads_a_cache_named_like_its_key_space(
    redis_server: RedisServer,
) -> None:
    shared = CacheManager(backend=redis_server.url, name="s")
    in_shared = cached_function(cache_manager=shared, name="f")(lambda x: "function f in s")
    named = cached_function(backend=redis_server.url, name="s:f")(lambda x: "cache s:f")
    assert in_shared(1) == "function f in s"
    assert named(1) == "cache s:f"
    assert in_shared(1) == "function f in s"
    prefixes = sorted(key.rsplit(b":", 1)[0] for key in raw(redis_server).keys("*"))
    assert prefixes == [b"codomyrmex:cache:s%3Af", b"codomyrmex:cache:s:f"]


def test_cache_clear_removes_exactly_its_function(redis_server: RedisServer) -> None:
    shared = CacheManager(backend=redis_server.url, name="test-hardening-exact")
    first = cached_function(cache_manager=shared, name="f")(lambda x: x)
    longer = cached_function(cache_manager=shared, name="f:g")(lambda x: x)
    odd = cached_function(cache_manager=shared, name="f*[?]%")(lambda x: x)
    for function in (first, longer, odd):
        function(1)
    first.cache_clear()
    assert (first.cache_info().currsize, longer.cache_info().currsize) == (0, 1)
    odd.cache_clear()
    assert (odd.cache_info().currsize, longer.cache_info().currsize) == (0, 1)
    assert len(shared) == 1


# -- single flight -------------------------------------------------------------------------
def run_together(func: Any, argument: Any, threads: int = THREADS) -> list[Any]:
    barrier = threading.Barrier(threads)
    results: list[Any] = []

    def work() -> None:
        barrier.wait()
        results.append(func(argument))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    return results


def test_threads_missing_one_key_run_the_function_once(redis_server: RedisServer) -> None:
    calls: list[int] = []

    @cached_function(backend=redis_server.url, name="test-hardening-flight")
    def slow(x: int) -> list[int]:
        calls.append(x)
        time.sleep(0.2)
        return [x]

    results = run_together(slow, 7)
    assert calls == [7]
    assert results == [[7]] * THREADS
    info = slow.cache_info()
    assert (info.hits, info.misses, info.currsize) == (0, THREADS, 1)


def test_a_redis_lock_runs_the_function_once_across_processes(redis_server: RedisServer) -> None:
    client = raw(redis_server)
    start_at = time.time() + 3
    snippet = f"""
        import time, redis
        from codomyrmex.performance import cached_function
        from codomyrmex.performance.cache_manager import RedisBackend

        counter = redis.Redis.from_url({redis_server.url!r})
        backend = RedisBackend({redis_server.url!r}, lock_timeout=10)

        @cached_function(backend=backend, name="test-hardening-lock")
        def slow(x):
            counter.incr("test-hardening-lock-calls")
            time.sleep(0.5)
            return {{"x": x}}

        time.sleep(max(0, {start_at} - time.time()))
        print(slow(3))
    """
    results: list[Any] = [None] * 4

    def run(index: int) -> None:
        results[index] = run_python(snippet, timeout=60)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert {r.stdout.strip() for r in results} == {"{'x': 3}"}
    assert int(client.get("test-hardening-lock-calls") or 0) == 1
    assert client.keys("codomyrmex:lock:*") == []


def test_a_failed_lock_holder_releases_the_lock_at_once(redis_server: RedisServer) -> None:
    started = threading.Event()

    def failing(x: int) -> int:
        started.set()
        time.sleep(0.3)
        raise LookupError("no value")

    holder = cached_function(
        backend=RedisBackend(redis_server.url, lock_timeout=20), name="test-hardening-release"
    )(failing)
    other = cached_function(
        backend=RedisBackend(redis_server.url, lock_timeout=20), name="test-hardening-release"
    )(lambda x: x * 10)  # another backend: as if in another process
    errors: list[BaseException] = []

    def lead() -> None:
        try:
            holder(1)
        except LookupError as exc:
            errors.append(exc)

    leader = threading.Thread(target=lead)
    leader.start()
    started.wait(10)
    begun = time.monotonic()
    assert other(1) == 10  # waited for the lock, which the failure released
    assert time.monotonic() - begun < 5
    leader.join()
    assert len(errors) == 1
    assert raw(redis_server).keys("codomyrmex:lock:*") == []


# -- names ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["caf\udce9", "\ud800", "a\udfffb"])
def test_a_name_with_a_lone_surrogate_is_refused_at_construction(
    redis_server: RedisServer, name: str
) -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        CacheManager(backend=redis_server.url, name=name)
    with pytest.raises(ValueError, match="UTF-8"):
        cached_function(backend=redis_server.url, name=name)
    shared = CacheManager(backend=redis_server.url, name="test-hardening-shared-name")
    with pytest.raises(ValueError, match="UTF-8"):
        cached_function(cache_manager=shared, name=name)(lambda x: x)


def test_names_with_nul_colons_and_glob_characters_work(redis_server: RedisServer) -> None:
    for name in ("nul\x00name", "a:b:c", "*", "[x]?", "é%3A"):
        cached = cached_function(backend=redis_server.url, name=name)(lambda x: [x])
        assert cached(1) == cached(1) == [1]
        assert cached.cache_info() == (1, 1, 128, 1)
        cached.cache_clear()
        assert cached.cache_info().currsize == 0
    assert raw(redis_server).keys("*") == []


# -- trust: signatures and size ------------------------------------------------------------
def test_signed_json_entries_reject_forgeries(redis_server: RedisServer) -> None:
    calls: list[int] = []
    backend = RedisBackend(redis_server.url, hmac_key=HMAC_KEY)

    @cached_function(backend=backend, name="test-hardening-signed")
    def price(item: int) -> dict[str, int]:
        calls.append(item)
        return {"item": item, "price": 10 * item}

    assert price(1) == {"item": 1, "price": 10}
    (key,) = raw(redis_server).keys("*")
    raw(redis_server).set(key, b'J{"d":[["item",1],["price",0]]}')  # unsigned, as an attacker
    assert price(1) == {"item": 1, "price": 10}
    assert price(2) == {"item": 2, "price": 20}
    keys = sorted(raw(redis_server).keys("*"))
    stolen = raw(redis_server).get(keys[0] if keys[0] != key else keys[1])
    assert stolen is not None
    raw(redis_server).set(key, stolen)  # a valid entry of another key
    assert price(1) == {"item": 1, "price": 10}
    assert price(1) == {"item": 1, "price": 10}
    assert len(calls) == 4
    stats = price.cache.stats()
    assert (stats.hits, stats.errors) == (1, 2)


def test_entries_over_the_size_limit_are_never_read_back(redis_server: RedisServer) -> None:
    calls: list[int] = []

    @cached_function(backend=redis_server.url, name="test-hardening-size")
    def profile(user: int) -> dict[str, int]:
        calls.append(user)
        return {"user": user}

    profile(1)
    (key,) = raw(redis_server).keys("*")
    raw(redis_server).set(key, b'J"' + b"x" * (64 * 1024 * 1024) + b'"')  # 64 MiB, valid JSON
    assert profile(1) == {"user": 1}
    assert profile(1) == {"user": 1}
    assert len(calls) == 2
    stats = profile.cache.stats()
    assert (stats.hits, stats.misses, stats.errors) == (1, 2, 1)
    assert raw(redis_server).strlen(key) < 100  # overwritten by the fresh value


def test_values_over_the_size_limit_are_not_stored(redis_server: RedisServer) -> None:
    backend = RedisBackend(redis_server.url, max_value_bytes=1000)

    @cached_function(backend=backend, name="test-hardening-big-value")
    def blob(size: int) -> bytes:
        return b"x" * size

    assert blob(10) == blob(10)
    assert len(blob(5000)) == 5000
    stats = blob.cache.stats()
    assert (stats.hits, stats.errors, stats.size) == (1, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_value_bytes": 0}, ValueError),
        ({"max_value_bytes": 2**40}, ValueError),
        ({"max_value_bytes": 1.5}, TypeError),
        ({"max_value_bytes": True}, TypeError),
        ({"lock_timeout": 0}, ValueError),
        ({"lock_timeout": float("nan")}, ValueError),
        ({"lock_timeout": float("inf")}, ValueError),
        ({"lock_timeout": "5"}, TypeError),
        ({"socket_timeout": float("nan")}, ValueError),
        ({"retry_after": 10**400}, ValueError),
    ],
)
def test_backend_options_are_validated(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RedisBackend("redis://127.0.0.1:1/0", **kwargs)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:notaport/0", "redis://caf\udce9:6379/0"])
def test_bad_urls_fail_at_construction(url: str) -> None:
    with pytest.raises(ValueError, match="Redis URL"):
        CacheManager(backend=url)


def test_a_decoding_client_is_refused() -> None:
    with pytest.raises(ValueError, match="decode_responses"):
        RedisBackend(redis.Redis(port=1, decode_responses=True))


# -- property-based: any plain arguments and results, nothing escapes ----------------------
ANY_TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()), max_size=8
)
PLAIN = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**200), max_value=2**200),
        st.floats(allow_nan=True, allow_infinity=True),
        ANY_TEXT,
        st.binary(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(ANY_TEXT, st.integers()), inner, max_size=3),
    ),
    max_leaves=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(argument=PLAIN, result=PLAIN)
def test_any_plain_argument_and_result_come_back_over_redis(
    redis_server: RedisServer, argument: Any, result: Any
) -> None:
    @cached_function(backend=redis_server.url, name="test-hardening-property")
    def compute(x: Any) -> Any:
        return result

    first = compute(argument)
    second = compute(argument)
    assert first is result
    assert repr(second) == repr(result)  # equal, nan included, from Redis or computed again
    compute.cache_clear()
