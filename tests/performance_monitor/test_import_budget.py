"""The import budget: decorating with the package's face loads nothing heavy.

``from codomyrmex.performance import monitor, cached_function, lazy_import`` and using them
on plain functions must not load asyncio, inspect, logging, concurrent.futures or
OpenTelemetry: each costs milliseconds and is loaded only by a feature that needs it (a
coroutine function decorated, an error to log, a provider to report to).
"""

from __future__ import annotations

import json

from harness.subprocesses import run_python

HEAVY = ("asyncio", "inspect", "logging", "concurrent.futures", "opentelemetry")

LOADED = """
import json, sys
before = set(sys.modules)
from codomyrmex.performance import monitor, cached_function, lazy_import
imported = set(sys.modules) - before

@monitor
def price(order):
    return order * 2

@cached_function
def rate(currency):
    return 1.1

json_module = lazy_import("json")
assert price(2) == 4 and rate("eur") == rate("eur") == 1.1
used = set(sys.modules) - before - imported
print(json.dumps({"imported": sorted(imported), "used": sorted(used)}))
"""


def is_heavy(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in HEAVY)


def test_the_face_and_plain_calls_load_nothing_heavy() -> None:
    result = run_python(LOADED, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    heavy = [module for module in loaded["imported"] + loaded["used"] if is_heavy(module)]
    assert heavy == [], loaded
    assert "codomyrmex.performance.performance_monitor" in loaded["imported"]
