"""``cached_function`` on plain sync functions: spellings, keys, TTL, LRU, the wrapper API."""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any

import pytest

from codomyrmex.performance import CacheManager, cached_function
from codomyrmex.performance.cache_manager import CacheInfo


def recorder() -> tuple[list[Any], Any]:
    calls: list[Any] = []

    def func(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return (args, tuple(sorted(kwargs.items())))

    return calls, func


def test_bare_decorator() -> None:
    calls = []

    @cached_function
    def double(x: int) -> int:
        calls.append(x)
        return x * 2

    assert double(2) == 4
    assert double(2) == 4
    assert calls == [2]
    assert double.cache.ttl_seconds == 300
    assert double.cache.max_size == 128


def test_called_with_ttl_seconds_and_max_size() -> None:
    @cached_function(ttl_seconds=60, max_size=5)
    def ident(x: int) -> int:
        return x

    assert ident.cache.ttl_seconds == 60
    assert ident.cache.max_size == 5
    assert ident.cache_info() == CacheInfo(hits=0, misses=0, maxsize=5, currsize=0)


def test_ttl_alias() -> None:
    @cached_function(ttl=3600)
    def ident(x: int) -> int:
        return x

    assert ident.cache.ttl_seconds == 3600


def test_positional_ttl_and_size() -> None:
    @cached_function(30, 7)
    def ident(x: int) -> int:
        return x

    assert (ident.cache.ttl_seconds, ident.cache.max_size) == (30, 7)


def test_wrapper_keeps_metadata() -> None:
    def original(a: int, b: str = "x") -> str:
        """Docs."""
        return b * a

    wrapped = cached_function(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__doc__ == "Docs."
    assert wrapped.__wrapped__ is original
    assert inspect.signature(wrapped) == inspect.signature(original)


def test_default_name_is_module_qualname() -> None:
    @cached_function
    def inner() -> int:
        return 1

    assert inner.cache.name == f"{__name__}.test_default_name_is_module_qualname.<locals>.inner"


def test_explicit_name() -> None:
    @cached_function(name="pricing")
    def price() -> int:
        return 1

    assert price.cache.name == "pricing"


def test_none_is_cached() -> None:
    calls = []

    @cached_function
    def nothing(x: int) -> None:
        calls.append(x)

    assert nothing(1) is None
    assert nothing(1) is None
    assert calls == [1]
    assert nothing.cache_info().hits == 1


def test_equal_numbers_share_unless_typed() -> None:
    calls, func = recorder()
    untyped = cached_function(func)
    untyped(1)
    untyped(1.0)
    untyped(True)
    assert len(calls) == 1

    calls, func = recorder()
    typed = cached_function(typed=True)(func)
    typed(1)
    typed(1.0)
    typed(1)
    typed(1.0)
    assert len(calls) == 2
    calls, func = recorder()
    typed_pairs = cached_function(typed=True)(func)
    typed_pairs(1, 2)
    typed_pairs(1.0, 2)
    typed_pairs(1, b=2)
    typed_pairs(1, b=2.0)
    assert len(calls) == 4


def test_objects_with_equal_str_do_not_share() -> None:
    class Same:
        def __str__(self) -> str:
            return "same"

        __repr__ = __str__

    calls, func = recorder()
    cached = cached_function(func)
    first, second = Same(), Same()
    assert str(first) == str(second)
    cached(first)
    cached(second)
    cached(first)
    assert len(calls) == 2
    assert cached.cache_info().hits == 1

    calls, func = recorder()
    cached = cached_function(func)
    cached("1")
    cached(1)
    cached((1,))
    cached(1, 2)
    cached((1, 2))
    cached([1, 2])
    assert len(calls) == 6


def test_keyword_and_positional_keys() -> None:
    calls, func = recorder()
    cached = cached_function(func)
    cached(1, b=2)
    cached(1, b=2)
    cached(1, 2)
    cached(a=1, b=2)
    assert len(calls) == 3


def test_unhashable_arguments_use_a_stable_key() -> None:
    calls, func = recorder()
    cached = cached_function(func)
    cached([1, 2], {"a": [1, {2}]})
    cached([1, 2], {"a": [1, {2}]})
    cached([1, 2], {"a": [1, {3}]})
    cached(options={"y": 2, "x": 1})
    cached(options={"x": 1, "y": 2})
    cached(bytearray(b"ab"))
    cached(bytearray(b"ab"))
    cached({1, 2})
    cached(frozenset({1, 2}))
    assert len(calls) == 5
    assert cached.cache_info() == CacheInfo(hits=4, misses=5, maxsize=128, currsize=5)


def test_unfreezable_argument_runs_uncached_and_counts_error() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    calls, func = recorder()
    cached = cached_function(func)
    thing = Unhashable()
    cached(thing)
    cached(thing)
    assert len(calls) == 2
    stats = cached.cache.stats()
    assert (stats.hits, stats.misses, stats.errors, stats.size) == (0, 0, 2, 0)


def test_custom_key_function() -> None:
    calls = []

    @cached_function(key=lambda user, *, verbose=False: user["id"])
    def render(user: dict[str, Any], *, verbose: bool = False) -> str:
        calls.append(user["id"])
        return user["name"]

    assert render({"id": 1, "name": "a"}) == "a"
    assert render({"id": 1, "name": "changed"}, verbose=True) == "a"
    assert render({"id": 2, "name": "b"}) == "b"
    assert calls == [1, 2]


def test_ttl_expiry() -> None:
    calls, func = recorder()
    cached = cached_function(ttl_seconds=0.05)(func)
    cached(1)
    cached(1)
    time.sleep(0.08)
    cached(1)
    assert len(calls) == 2
    stats = cached.cache.stats()
    assert (stats.hits, stats.misses, stats.expirations, stats.evictions) == (1, 2, 1, 0)


def test_ttl_zero_keeps_nothing_and_none_never_expires() -> None:
    calls, func = recorder()
    nothing = cached_function(ttl_seconds=0)(func)
    nothing(1)
    nothing(1)
    assert len(calls) == 2
    forever = cached_function(ttl=None)(func)
    forever(1)
    forever(1)
    assert len(calls) == 3


def test_lru_eviction_order() -> None:
    calls, func = recorder()
    cached = cached_function(max_size=2)(func)
    cached(1)
    cached(2)
    cached(1)  # 1 is now most recent
    cached(3)  # evicts 2
    cached(1)
    cached(2)
    assert [c[0][0] for c in calls] == [1, 2, 3, 2]
    stats = cached.cache.stats()
    assert (stats.evictions, stats.size) == (2, 2)


def test_max_size_zero_and_unbounded() -> None:
    calls, func = recorder()
    never = cached_function(max_size=0)(func)
    never(1)
    never(1)
    assert len(calls) == 2
    unbounded = cached_function(max_size=None)(func)
    for i in range(500):
        unbounded(i)
    assert unbounded.cache_info() == CacheInfo(hits=0, misses=500, maxsize=None, currsize=500)


def test_exceptions_are_not_cached_and_come_out_unchanged() -> None:
    attempts = []

    @cached_function
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) == 1:
            raise KeyError("first")
        return x

    with pytest.raises(KeyError) as info:
        flaky(1)
    assert info.value.args == ("first",)
    assert flaky(1) == 1
    assert flaky(1) == 1
    assert attempts == [1, 1]


def test_cache_info_and_clear_reset_info_only() -> None:
    calls, func = recorder()
    cached = cached_function(func)
    cached(1)
    cached(1)
    cached(2)
    assert cached.cache_info() == CacheInfo(hits=1, misses=2, maxsize=128, currsize=2)
    cached.cache_clear()
    assert cached.cache_info() == CacheInfo(hits=0, misses=0, maxsize=128, currsize=0)
    cached(1)
    assert len(calls) == 3
    assert cached.cache_info() == CacheInfo(hits=0, misses=1, maxsize=128, currsize=1)
    stats = cached.cache.stats()
    assert (stats.hits, stats.misses) == (1, 3)  # lifetime counts survive cache_clear


def test_cache_clear_clears_only_that_function() -> None:
    calls_a, func_a = recorder()
    calls_b, func_b = recorder()
    a = cached_function(func_a)
    b = cached_function(func_b)
    a(1)
    b(1)
    a.cache_clear()
    a(1)
    b(1)
    assert (len(calls_a), len(calls_b)) == (2, 1)


def test_shared_cache_manager_keeps_a_namespace_per_function() -> None:
    shared = CacheManager(ttl_seconds=60, max_size=10, name="test-shared-namespaces")

    @cached_function(cache_manager=shared)
    def square(x: int) -> int:
        return x * x

    @cached_function(cache_manager=shared)
    def negate(x: int) -> int:
        return -x

    assert (square(3), negate(3)) == (9, -3)
    assert (square(3), negate(3)) == (9, -3)
    shared.set(3, "direct")
    assert len(shared) == 3
    assert square.cache is shared
    assert square.cache_info().currsize == 1
    square.cache_clear()
    assert len(shared) == 2
    assert negate(3) == -3
    assert shared.get(3) == "direct"
    assert negate.cache_info().currsize == 1


def test_methods_classmethods_staticmethods() -> None:
    class Shop:
        calls = 0

        def __init__(self, rate: int) -> None:
            self.rate = rate

        @cached_function
        def price(self, amount: int) -> int:
            Shop.calls += 1
            return amount * self.rate

        @cached_function
        @classmethod
        def kind(cls, x: int) -> str:
            Shop.calls += 1
            return f"{cls.__name__}{x}"

        @cached_function
        @staticmethod
        def tax(x: int) -> int:
            Shop.calls += 1
            return x + 1

    one, two = Shop(1), Shop(2)
    assert (one.price(5), two.price(5), one.price(5)) == (5, 10, 5)
    assert (Shop.kind(1), one.kind(1)) == ("Shop1", "Shop1")
    assert (Shop.tax(1), one.tax(1)) == (2, 2)
    assert Shop.calls == 4


def test_recursive_function() -> None:
    @cached_function(max_size=None)
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    assert fib(80) == 23416728348467685
    assert fib.cache_info().misses == 81


def test_generator_functions_are_rejected() -> None:
    def gen() -> Any:
        yield 1

    async def agen() -> Any:
        yield 1

    with pytest.raises(TypeError, match="generator"):
        cached_function(gen)
    with pytest.raises(TypeError, match="generator"):
        cached_function(ttl=5)(agen)


def test_partial_objects_can_be_cached() -> None:
    calls, func = recorder()
    cached = cached_function(name="partial")(functools.partial(func, 1))
    cached(2)
    cached(2)
    assert len(calls) == 1


def test_arguments_containing_themselves_run_uncached_and_count_an_error() -> None:
    calls, func = recorder()
    cached = cached_function(func)
    looped: list[Any] = [1]
    looped.append(looped)
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    cached(looped)
    cached(looped)
    cached(key=mapping)
    assert len(calls) == 3
    stats = cached.cache.stats()
    assert (stats.hits, stats.misses, stats.errors, stats.size) == (0, 0, 3, 0)


async def test_async_arguments_containing_themselves_run_uncached() -> None:
    calls: list[int] = []

    @cached_function
    async def fetch(values: list[Any]) -> int:
        calls.append(1)
        return len(values)

    looped: list[Any] = [1]
    looped.append(looped)
    assert await fetch(looped) == await fetch(looped) == 2
    assert (len(calls), fetch.cache.stats().errors) == (2, 2)


def test_a_key_containing_itself_is_a_clear_type_error_for_the_mapping_api() -> None:
    cache = CacheManager(name="test-decorator-cyclic-key")
    looped: list[Any] = [1]
    looped.append(looped)
    for operation in (
        lambda: cache.set(looped, 1),
        lambda: cache.get(looped),
        lambda: looped in cache,
        lambda: cache.delete(looped),
        lambda: cache.get_or_set(looped, lambda: 1),
    ):
        with pytest.raises(TypeError, match="contains itself"):
            operation()
    assert len(cache) == 0


def test_over_a_decorator_proxying_a_classmethod_or_staticmethod() -> None:
    import wrapt

    seen: list[str] = []

    @wrapt.decorator
    def logged(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        seen.append(wrapped.__name__)
        return wrapped(*args, **kwargs)

    class Base:
        @cached_function
        @logged
        @classmethod
        def kind(cls, x: int) -> str:
            """Kind docs."""
            return f"{cls.__name__}{x}"

        @cached_function
        @logged
        @staticmethod
        def tax(x: int) -> int:
            return x + 1

    class Child(Base):
        pass

    assert (Base.kind(1), Base().kind(1), Child.kind(1), Child.kind(1)) == (
        "Base1",
        "Base1",
        "Child1",
        "Child1",
    )
    assert (Base.tax(1), Base().tax(1)) == (2, 2)
    assert seen == ["kind", "kind", "tax"]  # the proxy runs on misses only, the class is keyed
    assert Base.kind.__doc__ == "Kind docs."
    assert Base.kind.__qualname__.endswith("Base.kind")
    assert str(inspect.signature(Base.kind)) == "(x: 'int') -> 'str'"
