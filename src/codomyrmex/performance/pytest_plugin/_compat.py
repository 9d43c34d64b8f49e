"""What pytest-benchmark's users' tools read: its run storage and its JSON report.

``--benchmark-save``/``--benchmark-autosave`` write baselines (this package's format, every
sample) as ``STORAGE/<machine id>/NNNN_NAME.json``, numbered like pytest-benchmark's runs,
and ``--benchmark-compare`` picks the latest (or ``NNNN``) of them; runs pytest-benchmark
saved there are left alone. ``--benchmark-json`` writes pytest-benchmark's report
(``machine_info``, ``commit_info``, ``benchmarks`` with ``stats``) from the same samples.
"""

from __future__ import annotations

import json
import math
import platform
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codomyrmex.performance.profiling.baseline import SCHEMA
from codomyrmex.performance.pytest_plugin._fixture import BenchmarkStats
from codomyrmex.performance.version import __version__

if TYPE_CHECKING:
    from codomyrmex.performance.pytest_plugin._run import Record

__all__ = ["autosave_name", "jsonable", "machine_id", "next_run_path", "report", "saved_runs"]

_RUN_FILE = re.compile(r"(\d{4})_.*\.json")


def machine_id() -> str:
    """pytest-benchmark's directory name for this interpreter: ``Linux-CPython-3.11-64bit``."""
    version = ".".join(platform.python_version_tuple()[:2])
    return "-".join(
        (platform.system(), platform.python_implementation(), version, platform.architecture()[0])
    )


def _numbered(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _RUN_FILE.fullmatch(p.name))


def saved_runs(directory: Path, prefix: str) -> tuple[list[Path], list[Path]]:
    """The numbered runs in ``directory`` whose names start with ``prefix``: ours (oldest
    first) and the ones pytest-benchmark saved."""
    ours: list[Path] = []
    foreign: list[Path] = []
    for path in _numbered(directory):
        if not path.name.startswith(prefix):
            continue
        try:
            schema = json.loads(path.read_text(encoding="utf-8")).get("schema")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            schema = SCHEMA  # unreadable: loading it says why
        (ours if schema == SCHEMA else foreign).append(path)
    return ours, foreign


def next_run_path(directory: Path, name: str) -> Path:
    """``directory/NNNN_name.json``, numbered after the runs already there."""
    existing = _numbered(directory)
    number = int(existing[-1].name[:4]) + 1 if existing else 1
    return directory / f"{number:04d}_{name}.json"


def autosave_name(commit: str | None) -> str:
    """``--benchmark-autosave``'s run name: the commit and the time."""
    return f"{(commit or 'unversioned')[:12]}_{time.strftime('%Y%m%d_%H%M%S')}"


def report(records: list[Record], commit: str | None) -> dict[str, Any]:
    """pytest-benchmark's JSON report of ``records`` (every sample included as ``data``)."""
    implementation = platform.python_implementation()
    benchmarks = []
    for record in records:
        if record.result.failed:
            continue
        stats = BenchmarkStats(
            record.result, fullname=record.nodeid, group=record.requested_group,
            param=record.param, params=record.params, extra_info=record.extra_info,
        )  # fmt: skip
        benchmarks.append(
            {
                "group": record.requested_group,
                "name": record.name,
                "fullname": record.nodeid,
                "params": jsonable(record.params),
                "param": record.param,
                "extra_info": jsonable(record.extra_info),
                "options": jsonable(record.options),
                "stats": {
                    **jsonable(stats.as_dict()),
                    "data": stats.data,
                    "iterations": stats.iterations,
                },
            }
        )
    return {
        "machine_info": {
            "node": platform.node(),
            "processor": platform.processor(),
            "machine": platform.machine(),
            "python_compiler": platform.python_compiler(),
            "python_implementation": implementation,
            "python_implementation_version": platform.python_version(),
            "python_version": platform.python_version(),
            "python_build": list(platform.python_build()),
            "release": platform.release(),
            "system": platform.system(),
        },
        "commit_info": {"id": commit},
        "benchmarks": benchmarks,
        "datetime": datetime.now(timezone.utc).isoformat(),
        "version": f"codomyrmex-performance {__version__}",
    }


def jsonable(value: Any) -> Any:
    """``value`` with anything JSON cannot hold as its ``repr`` (parameters are objects)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)
