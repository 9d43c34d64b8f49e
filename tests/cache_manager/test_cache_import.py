"""What importing and using the cache loads: nothing heavy until a feature needs it."""

from __future__ import annotations

import json

from harness.subprocesses import run_python

HEAVY = ("asyncio", "inspect", "logging", "concurrent.futures", "opentelemetry", "redis")

LOADED = f"""
    import json, sys
    HEAVY = {HEAVY!r}

    def loaded():
        return sorted(
            name for name in sys.modules
            if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY)
        )
"""


def heavy_modules_after(code: str) -> dict[str, list[str]]:
    """Run ``code`` (which records ``steps[label] = loaded()``) in a fresh interpreter."""
    result = run_python(LOADED + "\n    steps = {}\n" + code + "\n    print(json.dumps(steps))")
    assert result.returncode == 0, result.stderr
    steps: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return steps


def test_import_and_plain_use_load_nothing_heavy() -> None:
    steps = heavy_modules_after(
        """
    steps["start"] = loaded()
    from codomyrmex.performance import cached_function, CacheManager
    import codomyrmex.performance.cache_manager
    steps["import"] = loaded()

    @cached_function(ttl=60)
    def square(x):
        return x * x

    @cached_function
    def total(values, *, scale=1):
        return sum(values) * scale

    class Shop:
        @cached_function
        def price(self, amount):
            return amount

    steps["decorate"] = loaded()
    assert square(3) == square(3) == 9
    assert total([1, 2], scale=2) == total([1, 2], scale=2) == 6
    assert Shop().price(5) == 5
    cache = CacheManager(name="plain")
    cache.set("k", 1)
    assert cache.get("k") == 1 and "k" in cache and len(cache) == 1
    assert cache.get_or_set("made", lambda: 2) == 2
    steps["use"] = loaded()
    """
    )
    assert steps == {"start": [], "import": [], "decorate": [], "use": []}


def test_decorating_a_coroutine_function_loads_nothing_until_it_runs() -> None:
    steps = heavy_modules_after(
        """
    from codomyrmex.performance import cached_function

    @cached_function
    async def fetch(x):
        return x

    steps["decorate"] = loaded()
    import asyncio

    assert asyncio.run(fetch(1)) == asyncio.run(fetch(1)) == 1
    assert fetch.cache_info().hits == 1
    steps["run"] = [name for name in loaded() if name.startswith(("opentelemetry", "redis"))]
    """
    )
    assert steps == {"decorate": [], "run": []}
