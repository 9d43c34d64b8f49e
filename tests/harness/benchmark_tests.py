"""What the pytest plugin's tests write into their ``pytester`` directories.

``QUICK`` keeps a benchmark to six rounds of about a millisecond; ``ini()`` is the text of
the sessions' ini file (the conftest writes it; a test may write its own with more);
``write_library`` writes ``mylib.py`` (``work()`` sleeps ``delay`` seconds, ``compute(n)``
sums a range) where the tests import it, or under ``directory`` (another version of the
code for ``--perf-against``).
"""

from __future__ import annotations

import importlib
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

__all__ = ["QUICK", "ini", "read_json", "write_library"]

QUICK = "@pytest.mark.benchmark(min_time=0.001, max_time=0.006)"


def ini(addopts: str = "") -> str:
    """The ini file of a test's session (``tox.ini``): pytest-asyncio's loop scope set, so
    that its deprecation warning stays out of the output the tests read, hypothesis's
    plugin left out (a second per session, of no use there), ``addopts`` added."""
    return (
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        f"addopts = -p no:hypothesispytest {addopts}\n"
    )


def write_library(pytester: pytest.Pytester, delay: float = 0.001, directory: str = "") -> Path:
    """``mylib.py`` in the pytester directory (or its ``directory``)."""
    target = pytester.path / directory
    target.mkdir(exist_ok=True)
    path = target / "mylib.py"
    path.write_text(
        textwrap.dedent(
            f"""\
            import time

            def work():
                time.sleep({delay!r})

            def compute(n):
                return sum(range(n))
            """
        ),
        encoding="utf-8",
    )
    importlib.invalidate_caches()  # in-process sessions import the new file, not a cached one
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
