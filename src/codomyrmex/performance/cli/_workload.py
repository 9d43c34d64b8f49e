"""``codomyrmex-perf demo``: an instrumented sample workload, then its performance report.

The workload is a small order pipeline that exercises every kind of monitored call — a
sync function, coroutines, a generator, nested calls, one call that fails (a declined
card) and a memory-hungry block tracked with ``ResourceTracker`` — plus two caches
(exchange rates, an LRU-bounded catalogue that evicts) and two lazily imported modules
(``sqlite3``, ``difflib``), in well under a second.

Telemetry goes through ``configure_telemetry(service_name="codomyrmex-perf-demo")``:
to ``--otlp URL`` or ``$OTEL_EXPORTER_OTLP_ENDPOINT`` when given, otherwise to OTLP-JSON
files (``traces.jsonl``, ``metrics.jsonl``) in ``$CODOMYRMEX_PERF_TELEMETRY_DIR``
(default ``~/.local/state/codomyrmex-performance/telemetry``). No collector is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from codomyrmex.performance.cache_manager import cached_function, live_caches
from codomyrmex.performance.cli._session import start_telemetry, stop_telemetry
from codomyrmex.performance.lazy_loader import import_timings, lazy_import
from codomyrmex.performance.performance_monitor import PerformanceMonitor
from codomyrmex.performance.resource_tracker import ResourceTracker, ResourceUsage

__all__ = ["SERVICE_NAME", "WORKLOAD_BLOCK", "demo_monitor", "run_demo", "run_workload"]

SERVICE_NAME = "codomyrmex-perf-demo"

#: The tracked block around the whole workload: the parent span of every call.
WORKLOAD_BLOCK = "demo.workload"

#: The monitor of the demo workload (its own, so the report shows only the demo's calls).
demo_monitor = PerformanceMonitor()
monitored = demo_monitor.monitor

_PRICES = {"book": 12.5, "lamp": 40.0, "pen": 1.2, "chair": 89.0, "mug": 7.5}
_RATES = {"EUR": 1.0, "USD": 1.08, "GBP": 0.86}

#: Imported on first use, inside the workload: the report shows what each import cost.
sqlite3 = lazy_import("sqlite3")
difflib = lazy_import("difflib")


class PaymentDeclined(Exception):
    """The card of an order was declined."""


@dataclass
class Order:
    order_id: int
    items: list[str]
    currency: str
    card: str


def make_raw_orders(count: int, seed: int = 7) -> list[str]:
    """Deterministic JSON order documents; order 13 carries a card that is declined."""
    rng = random.Random(seed)
    raws = []
    for order_id in range(count):
        raws.append(
            json.dumps(
                {
                    "id": order_id,
                    "items": rng.choices(list(_PRICES), k=rng.randint(1, 5)),
                    "currency": rng.choice(list(_RATES)),
                    "card": "4000-0000-0000-0002" if order_id == 13 else "4242-4242-4242-4242",
                }
            )
        )
    return raws


@monitored
def parse_order(raw: str) -> Order:
    """Decode and validate one order document."""
    document = json.loads(raw)
    return Order(document["id"], list(document["items"]), document["currency"], document["card"])


@monitored
def load_batch(raws: list[str]) -> list[Order]:
    """Parse a batch of orders (nested monitored calls)."""
    return [parse_order(raw) for raw in raws]


@cached_function(ttl=60, max_size=16, name="demo.exchange_rates")
@monitored
async def fetch_exchange_rate(currency: str) -> float:
    """Ask a (simulated) rates service: network latency, no CPU."""
    await asyncio.sleep(0.003 + 0.002 * list(_RATES).index(currency))
    return _RATES[currency]


@cached_function(ttl=60, max_size=3, name="demo.catalog")
@monitored
def lookup_price(item: str) -> float:
    """Read an item's price from the (simulated) catalogue database, matching names loosely."""
    time.sleep(0.0005)
    (match,) = difflib.get_close_matches(item, _PRICES, n=1, cutoff=0.5)
    return _PRICES[match]


@monitored
async def price_orders(orders: list[Order]) -> dict[int, float]:
    """Price every order in its currency, fetching the rates concurrently."""
    rates = await asyncio.gather(*(fetch_exchange_rate(order.currency) for order in orders))
    return {
        order.order_id: round(sum(lookup_price(item) for item in order.items) * rate, 2)
        for order, rate in zip(orders, rates, strict=True)
    }


@monitored
def charge_card(order: Order, amount: float) -> str:
    """Charge one order; the test card 4000-0000-0000-0002 is always declined."""
    if order.card.endswith("0002"):
        raise PaymentDeclined(f"card declined for order {order.order_id} ({amount:.2f})")
    return f"ch_{order.order_id:04d}"


@monitored
def receipt_lines(orders: list[Order], totals: dict[int, float]) -> Iterator[str]:
    """Stream the receipt lines of the charged orders (a monitored generator)."""
    for order in orders:
        if order.order_id in totals:
            yield f"{order.order_id:>4} {order.currency} {totals[order.order_id]:>9.2f}"


@monitored
def save_receipts(lines: list[str]) -> float:
    """Store the receipt lines in SQLite; return the largest order total."""
    with sqlite3.connect(":memory:") as database:
        database.execute("CREATE TABLE receipt (line TEXT)")
        database.executemany("INSERT INTO receipt VALUES (?)", [(line,) for line in lines])
    totals = [float(line.rsplit(maxsplit=1)[-1]) for line in lines]
    return max(totals, default=0.0)


@monitored
def build_sales_index(orders: list[Order], buffer_mib: int = 48) -> dict[str, int]:
    """Count items sold through a large scratch buffer: a short, sharp memory peak."""
    scratch = bytearray(buffer_mib << 20)
    encoded = "\n".join(item for order in orders for item in order.items).encode()
    scratch[: len(encoded)] = encoded
    counts: dict[str, int] = {}
    for item in bytes(scratch[: len(encoded)]).decode().split("\n"):
        counts[item] = counts.get(item, 0) + 1
    del scratch
    return counts


@monitored
def checkout(raws: list[str]) -> tuple[int, int]:
    """The whole pipeline for one batch; returns (charged, declined)."""
    orders = load_batch(raws)
    totals = asyncio.run(price_orders(orders))
    charged: dict[int, float] = {}
    declined = 0
    for order in orders:
        try:
            charge_card(order, totals[order.order_id])
        except PaymentDeclined:
            declined += 1
        else:
            charged[order.order_id] = totals[order.order_id]
    save_receipts(list(receipt_lines(orders, charged)))
    return len(charged), declined


def run_workload(batches: int = 4, batch_size: int = 20) -> ResourceUsage:
    """Run the demo pipeline under a ``ResourceTracker``; return what it cost the process."""
    raws = make_raw_orders(batches * batch_size)
    with demo_monitor.track(WORKLOAD_BLOCK, batches=batches), ResourceTracker() as tracker:
        for start in range(0, len(raws), batch_size):
            checkout(raws[start : start + batch_size])
        build_sales_index([parse_order(raw) for raw in raws])
    assert tracker.usage is not None
    return tracker.usage


def run_demo(args: argparse.Namespace) -> int:
    """``codomyrmex-perf demo``: run the workload, shut telemetry down, print the report."""
    from codomyrmex.performance.cli import report

    if not args.json:
        import rich  # noqa: F401 - fail before the work when the cli extra is missing
    handle = start_telemetry(SERVICE_NAME, args.otlp)
    demo_monitor.clear_metrics()
    usage = run_workload()
    outcome = stop_telemetry(handle)
    result = report.build_report(
        "codomyrmex-perf demo",
        monitor=demo_monitor,
        usage=usage,
        caches=live_caches(),
        import_timings=import_timings(),
        handle=handle,
        outcome=outcome,
        blocks={WORKLOAD_BLOCK},
    )
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        report.render(result)
    return 0
