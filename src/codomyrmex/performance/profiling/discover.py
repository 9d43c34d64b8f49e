"""Find benchmark suites: every module-level ``BenchmarkSuite`` in a file or under a directory.

``discover(path)`` loads ``path`` (a Python file, or every ``bench_*.py`` below a directory)
and returns its suites, raising :class:`DiscoveryError` (a ``ValueError``) with one line
saying what is wrong: a missing path, no benchmark files, a file that fails to import, no
suites, duplicate suite names. ``codomyrmex-perf bench`` and the MCP benchmark tool both
use it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from codomyrmex.performance.profiling.suite import BenchmarkSuite

__all__ = ["DiscoveryError", "discover"]


class DiscoveryError(ValueError):
    """No usable benchmark suites at a path; the message says why."""


def discover(path: Path) -> list[BenchmarkSuite]:
    """Load ``path`` (a file, or ``bench_*.py`` under a directory) and return its suites."""
    if not path.exists():
        raise DiscoveryError(f"no such file or directory: {path}")
    files = [path] if path.is_file() else sorted(path.rglob("bench_*.py"))
    if not files:
        raise DiscoveryError(f"no bench_*.py files under {path}")
    suites: list[BenchmarkSuite] = []
    for file in files:
        suites.extend(_load_suites(file.resolve()))
    if not suites:
        raise DiscoveryError(f"no BenchmarkSuite found in {path}")
    names = [s.name for s in suites]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DiscoveryError(f"duplicate suite names: {', '.join(duplicates)}")
    return suites


def _load_suites(file: Path) -> list[BenchmarkSuite]:
    directory = str(file.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name = file.stem
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise DiscoveryError(f"cannot load {file}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise DiscoveryError(f"cannot load {file}: {type(exc).__name__}: {exc}") from exc
    found: dict[int, BenchmarkSuite] = {}
    for value in vars(module).values():
        if isinstance(value, BenchmarkSuite):
            found.setdefault(id(value), value)
    return list(found.values())
