"""Warnings name where the skipped entries came from: the variable, ``targets`` or a ``source``."""

from __future__ import annotations

import logging

import pytest

from codomyrmex.performance.instrumentation import PerformanceInstrumentor


@pytest.mark.parametrize(
    ("options", "env", "named"),
    [
        ({}, "no_such_module_a:f", "CODOMYRMEX_PERF_INSTRUMENT"),
        ({"targets": "no_such_module_a:f"}, None, "targets"),
        ({"targets": "no_such_module_a:f", "source": "--instrument"}, None, "--instrument"),
    ],
)
def test_the_warning_names_the_source(
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, str],
    env: str | None,
    named: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("CODOMYRMEX_PERF_INSTRUMENT", env)
    instrumentor = PerformanceInstrumentor()
    with caplog.at_level(logging.WARNING, logger="codomyrmex.performance.instrumentation"):
        instrumentor.instrument(**options)
    try:
        assert [record.getMessage() for record in caplog.records] == [
            f"codomyrmex.performance: {named} entry 'no_such_module_a:f' skipped: "
            "module 'no_such_module_a' not found"
        ]
    finally:
        instrumentor.uninstrument()
