"""Fixtures of the pytest plugin's tests: ``pytester`` sessions that use the plugin.

``pytester`` itself is enabled by ``tests/conftest.py`` (pytest takes ``pytest_plugins``
from the top-level conftest only). The plugin is loaded in those sessions the way users
get it, by its ``pytest11`` entry point, and each session's directory gets the ini file
``harness.benchmark_tests.ini()``. ``pytester.runpytest`` runs in this process, so the
spans and metric points of an inner session land in the session's in-memory exporter and
reader; tests that need a fresh interpreter use ``runpytest_subprocess``. The plugin's
modules are imported here once, so that each inner session does not import them anew.
"""

from __future__ import annotations

import pytest

import codomyrmex.performance.pytest_plugin._run
import codomyrmex.performance.pytest_plugin._summary
import codomyrmex.performance.pytest_plugin._worker  # noqa: F401
from harness.benchmark_tests import ini


@pytest.fixture(autouse=True)
def _session_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(ini())
