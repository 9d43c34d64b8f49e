"""An interleaving worker: one test re-run in a fresh pytest session, its benchmark served.

``--perf-against DIR`` measures each benchmark in two of these processes, rounds
alternating: one imports the code under test as usual, the other finds the top-level
modules and packages of DIR first, whatever ``sys.path``, pytest's ``pythonpath`` setting
or its rootdir insertion say (the test file's own package and ``conftest`` excepted). Each
runs the test up to its ``benchmark(...)`` call, where the fixture hands the benchmark
over (:meth:`Host.serve`); the parent's engine then drives it over the protocol of
:mod:`codomyrmex.performance.profiling._worker`. The worker's pytest output goes to
stderr, which the parent test captures. The ini file is read; its ``addopts`` are not.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import pytest

from codomyrmex.performance.profiling._worker import private_channel, serve
from codomyrmex.performance.profiling.rounds import Benchmark, InProcessRounds
from codomyrmex.performance.pytest_plugin._settings import WORKER_HOST

__all__ = ["CODE", "Host", "main", "worker_target"]

#: What the worker process runs (``Benchmark.worker``).
CODE = "from codomyrmex.performance.pytest_plugin._worker import main; main()"


def worker_target(config: pytest.Config, item: pytest.Item, plugin_name: str) -> dict[str, Any]:
    """What an interleaving worker needs to re-run ``item``'s test (``_worker`` runs it)."""
    rest = item.nodeid.partition("::")[2]
    test = f"{item.path}::{rest}" if rest else str(item.path)
    args = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(config.rootpath),
            "--import-mode", str(config.option.importmode), "-p", plugin_name,
            # the worker imported the package before pytest could mark it for rewriting
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]  # fmt: skip
    if config.inipath is not None:
        args += ["-c", str(config.inipath)]
    given = list(config.invocation_params.args)
    for index, arg in enumerate(given):
        if arg in ("-p", "-o") and index + 1 < len(given):
            value = given[index + 1]
            if not value.startswith("addopts"):
                args += [arg, value]
    return {"test": test, "args": args, "cwd": str(config.invocation_params.dir)}


class Host:
    """The worker's pytest plugin: the fixture hands it the benchmark to serve."""

    def __init__(self, command: dict[str, Any], commands: Iterable[str], channel: TextIO) -> None:
        self._command, self._commands, self._channel = command, commands, channel
        self.served = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[WORKER_HOST] = self

    def serve(self, bench: Benchmark) -> None:
        """Answer the parent's rounds of ``bench`` until it closes the pipe."""
        if self.served:
            raise RuntimeError("this worker already served its benchmark")
        self.served = True
        command = self._command
        rounds = InProcessRounds(bench, disable_gc=command["disable_gc"], timer=command["timer"])
        serve(self._commands, self._channel, rounds)


class _SourcesFirst(importlib.abc.MetaPathFinder):
    """Finds top-level modules and regular packages in ``directories`` before anywhere else."""

    def __init__(self, directories: Sequence[str], excluded: set[str]) -> None:
        self._directories = list(directories)
        self._excluded = excluded

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if path is not None or fullname in self._excluded:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, self._directories)
        return spec if spec is not None and spec.loader is not None else None


def _test_modules(test_file: Path) -> set[str]:
    """Top-level names under which pytest may import ``test_file`` and its conftests."""
    directory, top = test_file.parent, test_file.stem
    while (directory / "__init__.py").is_file():
        top, directory = directory.name, directory.parent
    return {top, "conftest"}


def main() -> None:
    """Read the ``load`` command, run its test, serve its benchmark; say so if it never came."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    commands = os.fdopen(os.dup(0), encoding="utf-8")
    channel = private_channel()
    line = commands.readline()
    if not line:
        return
    command = json.loads(line)
    target = command["target"]
    sources = [p for p in target.get("sys_path", []) if p not in sys.path]
    test = target["test"]
    if sources:
        sys.path[:0] = sources
        excluded = _test_modules(Path(test.split("::", 1)[0]))
        sys.meta_path.insert(0, _SourcesFirst(sources, excluded))
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.chdir(target["cwd"])
    host = Host(command, commands, channel)
    status = pytest.main([test, *target["args"]], plugins=[host])
    if not host.served:
        reason = (
            f"{test} did not reach its benchmark in a worker (pytest exit status {int(status)})"
        )
        channel.write(json.dumps({"error": reason, "load": True}) + "\n")
        channel.flush()
