"""What lazy loading costs: attribute access after loading, and importing the package.

1. Attribute access through a loaded ``lazy_import`` handle against a plain module
   attribute, in interleaved rounds (the CPU speed drifts, so A and B alternate):
   a handle the module executed into, a handle mirroring an already imported module,
   and a forwarding proxy (``__getattr__`` to the module) for reference.
2. A fresh interpreter (bytecode cached, as for an installed package) running
   ``import codomyrmex.performance`` (and ``from codomyrmex.performance import
   lazy_import``) against ``python -c pass`` and ``import opentelemetry.trace``: many
   alternating runs, medians and ratios.

Run: ``python benchmarks/bench_lazy_import.py [--runs N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from typing import Any

from codomyrmex.performance import LazyLoader, lazy_import

LOOPS = 200_000


class ForwardingProxy:
    """The design lazy loading must not be: every access forwards through ``__getattr__``."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def access_timer(target: Any) -> Callable[[], float]:
    """A timer of ``target.attr`` with its own code object (specialised for that target)."""
    body = "\n".join(["        target.rgb_to_hsv"] * 10)
    source = (
        "def run(target=target):\n"
        "    start = perf_counter_ns()\n"
        f"    for _ in range({LOOPS}):\n"
        f"{body}\n"
        f"    return (perf_counter_ns() - start) / {LOOPS * 10}\n"
    )
    namespace: dict[str, Any] = {"target": target, "perf_counter_ns": time.perf_counter_ns}
    exec(compile(source, f"<access {type(target).__name__}>", "exec"), namespace)
    run: Callable[[], float] = namespace["run"]
    return run


def attribute_access(rounds: int) -> None:
    handle = lazy_import("colorsys")  # not imported yet: it will execute into the handle
    handle.load()
    plain = types.ModuleType("plain_copy")  # a plain module with the same namespace
    plain.__dict__.update(handle.__dict__)
    copy_handle = LazyLoader("colorsys")  # colorsys is imported now: this one mirrors it
    copy_handle.load()
    proxy = ForwardingProxy(handle)
    contenders: dict[str, Any] = {
        "plain module": plain,
        "lazy handle (executed into)": handle,
        "lazy handle (mirror)": copy_handle,
        "forwarding proxy": proxy,
    }
    timers = {name: access_timer(target) for name, target in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, timer in timers.items():
            samples[name].append(timer())
    base = statistics.median(samples["plain module"])
    print(f"attribute access after load ({rounds} interleaved rounds, median)")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:30s} {median:8.1f} ns   x{median / base:6.2f}")


def cold_imports(runs: int) -> None:
    commands: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import codomyrmex.performance": [sys.executable, "-c", "import codomyrmex.performance"],
        "from ... import lazy_import": [
            sys.executable,
            "-c",
            "from codomyrmex.performance import lazy_import",
        ],
        "import opentelemetry.trace": [sys.executable, "-c", "import opentelemetry.trace"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    # Installed packages import from cached bytecode: let the warm-up run write it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run: Callable[[list[str]], None] = lambda argv: subprocess.run(argv, check=True, env=env)  # noqa: E731
    for argv in commands.values():
        run(argv)  # warm the file system and bytecode caches once
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            run(argv)
            timings[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    bare = medians["python -c pass"]
    print(f"cold interpreter ({runs} alternating runs each, median wall time)")
    for name, median in medians.items():
        extra = median - bare
        print(f"  {name:32s} {median:7.1f} ms   x{median / bare:5.2f} of bare   +{extra:6.1f} ms")
    ours = medians["import codomyrmex.performance"] - bare
    otel = medians["import opentelemetry.trace"] - bare
    print(f"  import cost vs import opentelemetry.trace: {ours:.1f} ms / {otel:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="attribute-access rounds")
    parser.add_argument("--runs", type=int, default=40, help="cold interpreter runs per command")
    options = parser.parse_args()
    attribute_access(options.rounds)
    cold_imports(options.runs)


if __name__ == "__main__":
    main()
