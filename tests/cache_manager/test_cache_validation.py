"""Bad cache options fail when the cache or decorator is created, with a clear error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codomyrmex.performance import CacheManager, cached_function
from codomyrmex.performance.cache_manager._redis import RedisBackend


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_size": -1}, ValueError),
        ({"max_size": 1.5}, TypeError),
        ({"max_size": "10"}, TypeError),
        ({"max_size": True}, TypeError),
        ({"ttl_seconds": -1}, ValueError),
        ({"ttl_seconds": float("nan")}, ValueError),
        ({"ttl_seconds": "60"}, TypeError),
        ({"ttl_seconds": False}, TypeError),
        ({"name": ""}, TypeError),
        ({"name": 3}, TypeError),
        ({"backend": 42}, TypeError),
        ({"backend": object()}, TypeError),
        ({"backend": "memcached://localhost"}, ValueError),
    ],
)
def test_cache_manager_rejects(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        CacheManager(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_size": -5}, ValueError),
        ({"max_size": 2.0}, TypeError),
        ({"ttl_seconds": -0.1}, ValueError),
        ({"ttl": -1}, ValueError),
        ({"ttl": "1h"}, TypeError),
        ({"ttl": 60, "ttl_seconds": 30}, ValueError),
        ({"key": "not callable"}, TypeError),
        ({"typed": "yes"}, TypeError),
        ({"cache_manager": {}}, TypeError),
        ({"cache_manager": CacheManager(name="test-validation-shared"), "max_size": 5}, ValueError),
        ({"cache_manager": CacheManager(name="test-validation-shared"), "ttl": 5}, ValueError),
        ({"backend": 1.5}, TypeError),
        ({"backend": "http://localhost"}, ValueError),
        ({"name": ""}, TypeError),
    ],
)
def test_cached_function_rejects_at_decoration(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        cached_function(**kwargs)


def test_non_callable_target() -> None:
    with pytest.raises(TypeError, match="callable"):
        cached_function(ttl=5)(42)  # type: ignore[arg-type]


def test_agreeing_ttl_spellings_are_fine() -> None:
    assert cached_function(ttl=30, ttl_seconds=30)(lambda: 1).cache.ttl_seconds == 30


def test_infinite_ttl_means_never() -> None:
    assert CacheManager(ttl_seconds=float("inf")).ttl_seconds is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"serializer": "pickle"}, ValueError),
        ({"serializer": "pickle", "hmac_key": b"short"}, ValueError),
        ({"serializer": "pickle", "hmac_key": "not-bytes-but-long-enough"}, TypeError),
        ({"serializer": "json", "hmac_key": b"too short"}, ValueError),
        ({"serializer": "yaml"}, ValueError),
        ({"socket_timeout": 0}, ValueError),
        ({"retry_after": "1"}, TypeError),
    ],
)
def test_redis_backend_rejects(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RedisBackend("redis://127.0.0.1:1/0", **kwargs)


# -- property-based: any input either works or fails at construction with a clear error ----
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=())
ANY_TEXT = st.text(ANY_CHARACTER, max_size=12)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2**63, 10**30, -0.0, 1e-300, 1e300]),
)
ANYTHING = st.one_of(
    st.none(), st.booleans(), NUMBERS, ANY_TEXT, st.binary(max_size=8), st.complex_numbers(),
    st.lists(st.integers(), max_size=3), st.just(object()),
)  # fmt: skip
PLAIN_DATA = st.recursive(
    st.one_of(
        st.none(), st.booleans(), NUMBERS, ANY_TEXT, st.binary(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(ANY_TEXT, st.integers()), inner, max_size=3),
        st.frozensets(st.one_of(ANY_TEXT, st.integers()), max_size=3),
    ),
    max_leaves=8,
)  # fmt: skip


def valid_ttl(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        seconds = float(value)
    except OverflowError:
        return False
    return seconds >= 0  # nan compares False


def valid_size(value: object) -> bool:
    return value is None or (type(value) is int and value >= 0)


def valid_name(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or not value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(ttl_seconds=ANYTHING, max_size=ANYTHING, name=st.one_of(st.none(), ANY_TEXT, ANYTHING))
def test_cache_manager_options_work_or_fail_at_construction(
    ttl_seconds: Any, max_size: Any, name: Any
) -> None:
    expected = valid_ttl(ttl_seconds) and valid_size(max_size) and valid_name(name)
    try:
        cache = CacheManager(ttl_seconds, max_size, name=name)
    except (TypeError, ValueError):
        assert not expected
        return
    assert expected
    cache.set("k", "v")
    ttl = cache.ttl_seconds
    if cache.max_size == 0 or ttl == 0:
        assert cache.get("k") is None
    elif ttl is None or ttl >= 60:
        assert cache.get("k") == "v"
        assert len(cache) == cache.stats().size == 1
    else:  # a TTL this short may pass before the read
        assert cache.get("k") in ("v", None)


@settings(max_examples=300, deadline=None)
@given(
    ttl=ANYTHING,
    max_size=ANYTHING,
    typed=ANYTHING,
    key=st.one_of(st.none(), st.just(lambda *a, **k: "fixed"), ANYTHING),
    name=st.one_of(st.none(), ANY_TEXT),
)
def test_cached_function_options_work_or_fail_at_decoration(
    ttl: Any, max_size: Any, typed: Any, key: Any, name: Any
) -> None:
    expected = (
        valid_ttl(ttl)
        and valid_size(max_size)
        and isinstance(typed, bool)
        and (key is None or callable(key))
        and valid_name(name)
    )
    try:
        decorate = cached_function(ttl=ttl, max_size=max_size, typed=typed, key=key, name=name)
        double = decorate(lambda x: [x, x])
    except (TypeError, ValueError):
        assert not expected
        return
    assert expected
    assert double(1) == double(1) == [1, 1]


@settings(max_examples=300, deadline=None)
@given(
    args=st.lists(PLAIN_DATA, max_size=3), kwargs=st.dictionaries(ANY_TEXT, PLAIN_DATA, max_size=2)
)
def test_any_plain_arguments_give_the_functions_result(
    args: list[Any], kwargs: dict[str, Any]
) -> None:
    calls: list[int] = []

    @cached_function(name="test-validation-any-arguments")
    def echo(*args: Any, **kwargs: Any) -> tuple[int, ...]:
        calls.append(1)
        return (len(args), len(kwargs))

    assert echo(*args, **kwargs) == echo(*args, **kwargs) == (len(args), len(kwargs))
    assert len(calls) == 1  # the same objects again: equal keys, even with nan inside
    assert echo.cache.stats().errors == 0
