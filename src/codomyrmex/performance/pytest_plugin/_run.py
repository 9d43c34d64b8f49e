"""A pytest session's benchmark run: the engine behind the fixture, and what happens at the end.

:class:`Run` checks the files and endpoint the options name (``pytest.UsageError`` before
any test runs), measures each benchmark with the engine's ``measure`` (calibration,
statistics, verdicts of ``run_benchmark``) and, when the session finishes, exports one
span per group with a child per benchmark, saves baselines and writes the JSON reports.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling.benchmark import (
    DEFAULT_INTERLEAVED_ROUNDS,
    DEFAULT_MIN_TIME,
    DEFAULT_ROUNDS,
    measure,
)
from codomyrmex.performance.profiling.export import current_commit, export_run
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult
from codomyrmex.performance.pytest_plugin import _compat
from codomyrmex.performance.pytest_plugin._compat import jsonable
from codomyrmex.performance.pytest_plugin._settings import Settings, Tuning

if TYPE_CHECKING:
    from codomyrmex.performance.profiling.rounds import Benchmark
    from codomyrmex.performance.pytest_plugin._fixture import BenchmarkFixture, Pedantic

__all__ = ["MIN_ROUNDS", "Record", "Run", "failure_message"]

#: The fewest rounds ``max_time`` leaves when ``min_rounds`` is not given: pytest-benchmark's
#: default, and the fewest samples the engine calls stable.
MIN_ROUNDS = 5


@dataclass
class Record:
    """One measured benchmark of the session, with the test it came from."""

    nodeid: str
    #: The suite: the group asked for (``requested_group``) or the test's module.
    group: str
    requested_group: str | None
    name: str
    param: str | None
    params: dict[str, Any] | None
    extra_info: dict[str, Any]
    result: BenchmarkResult
    fingerprint: dict[str, Any]
    window: tuple[int, int]
    options: dict[str, Any] = field(default_factory=dict)


def engine_options(
    tuning: Tuning, settings: Settings, pedantic: Pedantic | None, *, interleaved: bool
) -> dict[str, Any]:
    """The engine's options for one benchmark (see :class:`Tuning`)."""
    options: dict[str, Any] = {"timer": tuning.timer, "disable_gc": tuning.disable_gc}
    if settings.min_effect is not None:
        options["min_effect"] = settings.min_effect
    if settings.min_effect_abs is not None:
        options["min_effect_abs"] = settings.min_effect_abs
    if pedantic is not None:
        options.update(rounds=pedantic.rounds, warmup=pedantic.warmup, loops=pedantic.iterations)
        return options
    min_time = tuning.min_time or DEFAULT_MIN_TIME
    rounds = DEFAULT_INTERLEAVED_ROUNDS if interleaved else DEFAULT_ROUNDS
    if tuning.min_rounds is not None:
        rounds = max(rounds, tuning.min_rounds)
    if tuning.max_time is not None:
        floor = tuning.min_rounds or MIN_ROUNDS
        rounds = min(rounds, max(floor, int(tuning.max_time / min_time)))
    options.update(rounds=max(rounds, 2), min_time=min_time, warmup=int(tuning.warmup))
    return options


def failure_message(record: Record) -> str:
    """A regression's test failure: the ratio, its 95 % CI, the p-value, how compared."""
    c = record.result.comparison
    assert c is not None
    return (
        f"performance regression: {record.name} takes {c.ratio:.3f}× the baseline's time "
        f"(95% CI {c.ci_low:.3f}-{c.ci_high:.3f}, p={c.p_value:.2g}, {c.mode}; "
        f"a regression is >= {c.threshold:.3f}×)"
    )


class Run:
    """The benchmarks of one pytest session, from the first measurement to the reports."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.records: list[Record] = []
        self.run_id = uuid.uuid4().hex
        #: Lines for the summary: where the results went, what could not be compared; and
        #: the outputs that could not be written (they fail the session).
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.stored: list[SuiteResult] | None = None
        for option, path in (("--perf-save", settings.save), ("--perf-json", settings.json),
                             ("--benchmark-json", settings.compat_json)):  # fmt: skip
            if path is not None:
                _check_output(option, path)
        if settings.uses_storage and settings.storage.exists() and not settings.storage.is_dir():
            raise pytest.UsageError(f"--benchmark-storage: not a directory: {settings.storage}")
        for directory in settings.against:
            if not directory.is_dir():
                raise pytest.UsageError(f"--perf-against: no such directory: {directory}")
        if settings.otlp is not None:
            import importlib.util

            from codomyrmex.performance.telemetry._exporters import check_endpoint, check_reachable

            if importlib.util.find_spec("opentelemetry.sdk") is None:
                raise pytest.UsageError(
                    "--perf-otlp needs the OpenTelemetry SDK: "
                    "pip install 'codomyrmex-performance[sdk]'"
                )

            try:
                check_endpoint(settings.otlp, "--perf-otlp")
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None
            try:
                check_reachable(settings.otlp)
            except ValueError as exc:
                raise pytest.UsageError(f"--perf-otlp: {exc}") from None
        baseline, option = settings.baseline, "--perf-baseline"
        if settings.compare is not None:
            baseline, option = self._saved_run(settings.compare), "--benchmark-compare"
        if baseline is not None:
            if baseline.exists() and not baseline.is_file():
                raise pytest.UsageError(f"{option}: not a regular file: {baseline}")
            try:
                self.stored = baselines.load(baseline)
            except baselines.BaselineError as exc:
                raise pytest.UsageError(f"{option}: {exc}") from None
            self.notes.append(f"compared with {baseline}")
            stored_machine = self.stored[0].fingerprint if self.stored else {}
            differences = baselines.fingerprint_differences(stored_machine)
            if differences:
                self.notes.append(
                    "baseline measured on a different machine or Python: " + "; ".join(differences)
                )

    def _saved_run(self, number: str) -> Path | None:
        """The run ``--benchmark-compare [NUM]`` names: the latest of ours in the storage."""
        directory = self.settings.storage / _compat.machine_id()
        found, foreign = _compat.saved_runs(directory, number)
        if foreign:
            self.notes.append(
                f"{len(foreign)} run(s) in {directory} were saved by pytest-benchmark: not compared"
            )
        if not found:
            if number:
                raise pytest.UsageError(
                    f"--benchmark-compare: no saved run {number} in {directory}"
                )
            self.notes.append(f"nothing to compare with: no run saved in {directory} yet")
            return None
        return found[-1]

    # -- measuring

    def measure(
        self,
        fixture: BenchmarkFixture,
        bench: Benchmark,
        tuning: Tuning,
        pedantic: Pedantic | None,
        *,
        worker: tuple[str, dict[str, Any]] | None,
    ) -> Record:
        """Measure ``bench`` for ``fixture``'s test and record it; fails that test on an
        error, a duplicate name or (when gating) a regression."""
        group = fixture.group or fixture.fullname.split("::", 1)[0]
        for earlier in self.records:
            if (earlier.group, earlier.name) == (group, bench.name):
                pytest.fail(
                    f"benchmark name {bench.name!r} of group {group!r} is already used by "
                    f"{earlier.nodeid}: set benchmark.name or benchmark.group",
                    pytrace=False,
                )
        options = engine_options(tuning, self.settings, pedantic, interleaved=worker is not None)
        stored = None
        if worker is not None:
            bench.worker = worker
            options.update(baseline_source=self.settings.against, processes=1)
        elif self.stored is not None:
            stored = baselines.select(self.stored, group)
        start = time.time_ns()
        measured = measure(bench, suite=group, baseline=stored, **options)
        record = Record(
            nodeid=fixture.fullname,
            group=group,
            requested_group=fixture.group,
            name=bench.name,
            param=fixture.param,
            params=fixture.params,
            extra_info=fixture.extra_info,
            result=measured.results[0],
            fingerprint=measured.fingerprint,
            window=(start, time.time_ns()),
            options=options,
        )
        self.records.append(record)
        result = record.result
        if result.failed:
            pytest.fail(f"benchmark {bench.name} failed: {result.error}", pytrace=False)
        if result.verdict == "regression" and self.settings.gate:
            pytest.fail(failure_message(record), pytrace=False)
        return record

    # -- the end of the session

    def suites(self) -> list[SuiteResult]:
        """The session's results as one suite per group, in the order they first ran."""
        commit = current_commit()
        measurements = {r.fingerprint.get("measurement") for r in self.records}
        fingerprint = dict(self.records[0].fingerprint) if self.records else {}
        if len(measurements) > 1:  # mixed modes: the file cannot claim one
            fingerprint.pop("measurement", None)
        suites: dict[str, SuiteResult] = {}
        for record in self.records:
            suite = suites.setdefault(
                record.group,
                SuiteResult(record.group, [], run_id=self.run_id, commit=commit,
                            fingerprint=fingerprint),
            )  # fmt: skip
            suite.results.append(record.result)
        return list(suites.values())

    def finish(self) -> None:
        """Export the run, save the baselines and write the reports the options ask for."""
        if not self.records:
            return
        suites = self.suites()
        self._export(suites)
        failed = [r.name for s in suites for r in s.failures]
        regressed = [r.name for s in suites for r in s.regressions]
        passed = not failed and not regressed
        reason = f"{len(failed)} failed, {len(regressed)} regressed"
        if self.settings.save is not None:
            self._save(suites, self.settings.save, passed, reason)
        if self.settings.storage_save is not None or self.settings.autosave:
            name = self.settings.storage_save or _compat.autosave_name(suites[0].commit)
            directory = self.settings.storage / _compat.machine_id()
            self._save(suites, _compat.next_run_path(directory, name), passed, reason)
        if self.settings.json is not None:
            document = {
                "exit_status": int(not passed),
                "suites": [self._suite_document(s) for s in suites],
            }
            self._write("--perf-json", self.settings.json,
                        lambda path: baselines.write_json(document, path))  # fmt: skip
        if self.settings.compat_json is not None:
            report = _compat.report(self.records, suites[0].commit)
            self._write("--benchmark-json", self.settings.compat_json,
                        lambda path: baselines.write_json(report, path))  # fmt: skip

    def _suite_document(self, suite: SuiteResult) -> dict[str, Any]:
        document = suite.to_dict()
        tests = [r for r in self.records if r.group == suite.name]
        for entry, record in zip(document["results"], tests, strict=True):
            entry.update(nodeid=record.nodeid, params=jsonable(record.params),
                         extra_info=jsonable(record.extra_info))  # fmt: skip
        return document

    def _save(self, suites: list[SuiteResult], path: Path, passed: bool, reason: str) -> None:
        if not passed:
            self.notes.append(f"baseline {path} not written: {reason}")
            return
        if self._write("baseline", path, lambda target: baselines.save(suites, target)):
            self.notes.append(f"baseline saved: {path}")

    def _write(self, what: str, path: Path, write: Callable[[Path], object]) -> bool:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        except OSError as exc:
            self.errors.append(f"{what}: cannot write {path}: {exc.strerror or exc}")
            return False
        return True

    def _export(self, suites: Sequence[SuiteResult]) -> None:
        handle = None
        if self.settings.otlp is not None:
            from codomyrmex.performance.telemetry import configure_telemetry

            service = None if os.environ.get("OTEL_SERVICE_NAME") else "pytest"
            handle = configure_telemetry(service, endpoint=self.settings.otlp)
        for suite in suites:
            windows = [r.window for r in self.records if r.group == suite.name]
            export_run(suite, windows, windows[0][0], windows[-1][1])
        if handle is not None:
            handle.shutdown()
            stats = handle.stats()
            self.notes.append(
                f"exported to {self.settings.otlp}: {stats.exported} of {stats.ended} spans"
            )


def _check_output(option: str, path: Path) -> None:
    try:
        baselines.check_writable(path)
    except OSError as exc:
        raise pytest.UsageError(f"{option}: cannot write {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise pytest.UsageError(f"{option}: {exc}") from None
