"""A real OpenTelemetry collector for the tests: ``rotel`` from PyPI, on free loopback ports.

The ``otel_collector`` fixture starts ``rotel-agent`` (the binary inside the ``rotel``
wheel) once per session with the ``blackhole`` exporter and its detailed debug log for
traces and metrics, and hands tests an :class:`OtelCollector`::

    def test_calls_arrive(otel_collector):
        run_python(f'''
            from codomyrmex.performance import configure_telemetry
            handle = configure_telemetry(
                "svc-x", endpoint="{otel_collector.grpc_endpoint}", protocol="grpc")
            ...
            handle.shutdown()
        ''')
        got = otel_collector.wait_for(lambda t: t.spans_named("work"), service_name="svc-x")
        assert got[0].attributes["code.function.name"] == "work"

``telemetry(service_name)`` parses the debug log (strictly, see ``rotel_debug_log``) into
spans and metric points; ``wait_for`` polls it (or the raw log text) until a condition
holds. Tests share the session collector and tell their data apart by ``service.name``;
a test that kills or restarts a collector uses ``private_otel_collector`` (its own), or
calls ``restart()`` on the shared one (the fixture restarts it for the next test anyway).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sysconfig
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import files
from pathlib import Path
from typing import Any

import pytest

from harness.rotel_debug_log import LogParser, Telemetry, strip_ansi

__all__ = ["OtelCollector", "rotel_binary"]

_STARTUP_TIMEOUT = 15.0


def rotel_binary() -> Path:
    """The ``rotel-agent`` executable shipped inside the installed ``rotel`` wheel."""
    for entry in files("rotel") or ():
        if entry.name == "rotel-agent":
            path = Path(str(entry.locate())).resolve()
            if not os.access(path, os.X_OK):
                path.chmod(path.stat().st_mode | 0o111)
            return path
    raise RuntimeError("the installed 'rotel' package has no rotel-agent binary")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class OtelCollector:
    """A running ``rotel-agent`` whose debug log the tests can read and wait on."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.log_path = work_dir / "rotel.log"
        self.grpc_port = 0
        self.http_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._parser = LogParser()
        self._read_offset = 0
        self._partial = b""

    # -- addresses
    @property
    def grpc_endpoint(self) -> str:
        """Base URL for OTLP/gRPC exporters (``protocol="grpc"``)."""
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """Base URL for OTLP/HTTP exporters (``protocol="http/protobuf"``)."""
        return f"http://127.0.0.1:{self.http_port}"

    def endpoint(self, protocol: str) -> str:
        return self.grpc_endpoint if protocol == "grpc" else self.http_endpoint

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle
    def start(self) -> None:
        """Start on two new free ports (retrying if another process takes one first)."""
        last_error = ""
        for _ in range(8):
            self.grpc_port, self.http_port = _free_port(), _free_port()
            if self.grpc_port == self.http_port:
                continue
            try:
                self._launch()
                return
            except RuntimeError as exc:
                last_error = str(exc)
        raise RuntimeError(f"rotel-agent did not start: {last_error}")

    def _launch(self) -> None:
        if self.is_running():
            raise RuntimeError("rotel-agent is already running")
        binary = rotel_binary()
        env = dict(os.environ)
        libdir = sysconfig.get_config_var("LIBDIR")
        if libdir:
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                part for part in (str(libdir), env.get("LD_LIBRARY_PATH", "")) if part
            )
        for name in [name for name in env if name.startswith("ROTEL_")]:
            del env[name]
        command = [
            str(binary), "start",
            "--exporter", "blackhole",
            "--debug-log", "traces", "--debug-log", "metrics",
            "--debug-log-verbosity", "detailed",
            "--otlp-grpc-endpoint", f"127.0.0.1:{self.grpc_port}",
            "--otlp-http-endpoint", f"127.0.0.1:{self.http_port}",
            "--pid-file", str(self.work_dir / "rotel.pid"),
            "--log-file", str(self.work_dir / "rotel-agent.log"),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            if log.tell() and not self.log_path.read_bytes().endswith(b"\n"):
                log.write(b"\n")  # a run killed mid-line must not run into the next one
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"rotel-agent exited at start:\n{self.log_tail()}")
            if _port_open(self.grpc_port) and _port_open(self.http_port):
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"rotel-agent ports did not open in time:\n{self.log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop gracefully (SIGTERM), killing it if it does not exit in time."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self._process = None

    def kill(self) -> None:
        """Kill it abruptly (SIGKILL), like a crashed collector; its ports close at once."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(10)
        self._process = None

    def restart(self) -> None:
        """Start it again on the same ports (after ``kill``/``stop``, or stopping it first)."""
        self.stop()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while True:
            try:
                self._launch()
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # -- programs that report to it
    def run_program(
        self,
        directory: Path,
        body: str,
        *,
        service: str,
        protocol: str = "grpc",
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``body`` as a script file in a fresh interpreter that reports here.

        The script starts with ``handle = configure_telemetry(service, endpoint=..., protocol=...)``
        and ends with ``handle.shutdown()`` (asserted to finish in time) and a
        ``STATS <TelemetryStats>`` line; ``__file__`` is the script's real path.
        """
        from harness.subprocesses import run_python

        script = directory / f"{service}.py"
        script.write_text(
            "from codomyrmex.performance import configure_telemetry\n"
            f"handle = configure_telemetry({service!r}, endpoint={self.endpoint(protocol)!r}, "
            f"protocol={protocol!r})\n"
            f"{textwrap.dedent(body).strip()}\n"
            "assert handle.shutdown(10_000), 'telemetry shutdown timed out'\n"
            "print('STATS', handle.stats())\n",
            encoding="utf-8",
        )
        return run_python(
            f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')",
            env=env,
            timeout=timeout,
        )

    # -- the log
    def log_text(self) -> str:
        """The whole log so far (all runs), without ANSI colours."""
        try:
            raw = self.log_path.read_bytes()
        except FileNotFoundError:
            return ""
        return strip_ansi(raw.decode("utf-8", errors="replace"))

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def telemetry(self, service_name: str | None = None) -> Telemetry:
        """Everything received so far, parsed; only one service's data if named."""
        with self._lock:
            try:
                with self.log_path.open("rb") as log:
                    log.seek(self._read_offset)
                    chunk = log.read()
            except FileNotFoundError:
                chunk = b""
            self._read_offset += len(chunk)
            data = self._partial + chunk
            complete, newline, self._partial = data.rpartition(b"\n")
            if newline:
                for line in complete.decode("utf-8", errors="replace").split("\n"):
                    self._parser.feed(strip_ansi(line))
            received = self._parser.telemetry
            snapshot = Telemetry(list(received.spans), list(received.points), received.log_lines)
        return snapshot if service_name is None else snapshot.for_service(service_name)

    def wait_for(
        self,
        condition: str | Callable[[Telemetry], Any],
        timeout: float = 15.0,
        *,
        service_name: str | None = None,
    ) -> Any:
        """Wait until the log contains a text, or a predicate on the parsed data is truthy.

        Returns the parsed :class:`Telemetry` (filtered to ``service_name`` if given) for a
        text, the predicate's truthy result otherwise; fails the test with the log's tail
        on timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            if isinstance(condition, str):
                if condition in self.log_text():
                    return self.telemetry(service_name)
            else:
                result = condition(self.telemetry(service_name))
                if result:
                    return result
            if time.monotonic() > deadline:
                seen = self.telemetry(service_name)
                raise AssertionError(
                    f"collector did not receive what was expected within {timeout} s "
                    f"(running={self.is_running()}); for service {service_name!r} it has "
                    f"spans {sorted(span.name for span in seen.spans)}, metric points "
                    f"{sorted((p.name, sorted(p.attributes.items())) for p in seen.points)}; "
                    f"log tail:\n{self.log_tail(15)}"
                )
            time.sleep(0.1)


@contextlib.contextmanager
def running_collector(work_dir: Path) -> Iterator[OtelCollector]:
    collector = OtelCollector(work_dir)
    collector.start()
    try:
        yield collector
    finally:
        collector.stop()


@pytest.fixture(scope="session")
def _session_otel_collector(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OtelCollector]:
    with running_collector(tmp_path_factory.mktemp("otel-collector")) as collector:
        yield collector


@pytest.fixture
def otel_collector(_session_otel_collector: OtelCollector) -> OtelCollector:
    """The session's collector, restarted first if an earlier test left it down."""
    if not _session_otel_collector.is_running():
        _session_otel_collector.restart()
    return _session_otel_collector


@pytest.fixture
def private_otel_collector(tmp_path: Path) -> Iterator[OtelCollector]:
    """A collector of this test alone, to kill and restart freely."""
    work_dir = tmp_path / "otel-collector"
    work_dir.mkdir()
    with running_collector(work_dir) as collector:
        yield collector
