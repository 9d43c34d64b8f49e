"""Lazy loading: import heavy modules on first use, and see each import as a span.

python examples/lazy_loading.py
"""

from __future__ import annotations

from codomyrmex.performance import configure_telemetry, lazy_import

handle = configure_telemetry("lazy-loading-example")

decimal = lazy_import("decimal")  # nothing imported yet
print("before first use:", decimal)
print("sum:", decimal.Decimal("0.1") + decimal.Decimal("0.2"))  # imported here, timed
print("after first use:", decimal)

handle.shutdown()
