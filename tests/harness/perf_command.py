"""``codomyrmex-perf`` run as a user runs it: the installed script, no OTEL_* variable set."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SCRIPT", "perf"]

SCRIPT = Path(sys.executable).with_name("codomyrmex-perf")


def perf(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``codomyrmex-perf ARGS`` in a subprocess, without OTEL_* or a telemetry directory set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    clean.pop("CODOMYRMEX_PERF_TELEMETRY_DIR", None)
    clean.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=clean, timeout=timeout, cwd=cwd
    )
