"""An unusable embedded-default directory is one warning, never an exception into the host.

Each case runs in a fresh interpreter. Unusable homes are built inside tmp_path (a path
under a regular file cannot be created, even by root); nothing outside it is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.subprocesses import run_python

PROGRAM = """
from codomyrmex.performance import configure_telemetry, monitor

handle = configure_telemetry("homeless")

@monitor
def work():
    return 42

print("result", work())
print("destination", handle.destination)
print("shutdown", handle.shutdown())
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "CODOMYRMEX_PERF_", "XDG_"))
    }
    env.update(extra)
    return env


def run_program(code: str, env: dict[str, str], cwd: Path | None = None) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, env=env, timeout=120, cwd=cwd, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.splitlines() == [
        "result 42",
        "destination none (telemetry directory unusable)",
        "shutdown True",
    ]
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, result.stderr
    assert "CODOMYRMEX_PERF_TELEMETRY_DIR" in warnings[0]
    return warnings


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return path


def test_variable_pointing_at_a_file(a_file: Path) -> None:
    (warning,) = run_program(PROGRAM, clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(a_file)))
    assert str(a_file) in warning


def test_variable_below_a_file(a_file: Path) -> None:
    directory = a_file / "telemetry"
    (warning,) = run_program(PROGRAM, clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(directory)))
    assert str(directory) in warning


def test_variable_naming_an_unknown_users_home() -> None:
    (warning,) = run_program(
        PROGRAM, clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR="~no-such-user-for-codomyrmex/x")
    )
    assert "~no-such-user-for-codomyrmex/x" in warning


def test_a_home_that_cannot_exist(a_file: Path) -> None:
    home = a_file / "home" / "service"
    (warning,) = run_program(PROGRAM, clean_env(HOME=str(home)))
    assert str(home / ".local" / "state" / "codomyrmex-performance" / "telemetry") in warning


def test_no_home_directory_at_all(tmp_path: Path) -> None:
    code = (
        "import pathlib\n"
        "def no_home(cls):\n"
        "    raise RuntimeError('Could not determine home directory.')\n"
        "pathlib.Path.home = classmethod(no_home)\n" + PROGRAM
    )
    env = clean_env()
    env.pop("HOME", None)
    (warning,) = run_program(code, env)
    assert "home directory" in warning


def test_a_signal_file_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "traces.jsonl").mkdir()
    (warning,) = run_program(PROGRAM, clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path)))
    assert str(tmp_path) in warning


def test_a_relative_xdg_state_home_is_ignored(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "from codomyrmex.performance.telemetry import telemetry_dir\n"
         "print(telemetry_dir())"],
        capture_output=True, text=True, timeout=60, cwd=cwd, check=False,
        env=clean_env(HOME=str(home), XDG_STATE_HOME="relative/state"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = home / ".local" / "state" / "codomyrmex-performance" / "telemetry"
    assert result.stdout.strip() == str(expected)


def test_an_absolute_xdg_state_home_is_honoured(tmp_path: Path) -> None:
    result = run_python(
        "from codomyrmex.performance.telemetry import telemetry_dir\nprint(telemetry_dir())",
        env={"XDG_STATE_HOME": str(tmp_path), "CODOMYRMEX_PERF_TELEMETRY_DIR": ""},
    )
    assert result.stdout.strip() == str(tmp_path / "codomyrmex-performance" / "telemetry")


def test_an_explicit_unusable_output_dir_is_a_value_error(a_file: Path) -> None:
    result = run_python(
        f"""
from opentelemetry import trace
from codomyrmex.performance import configure_telemetry
try:
    configure_telemetry(output_dir={str(a_file)!r})
except ValueError as exc:
    print(exc)
print(type(trace.get_tracer_provider()).__name__)
"""
    )
    assert result.returncode == 0, result.stderr
    message, provider = result.stdout.splitlines()
    assert message.startswith(f"output_dir {str(a_file)!r} cannot be used")
    assert provider == "ProxyTracerProvider"


def test_perf_run_still_runs_the_script(tmp_path: Path, a_file: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "from codomyrmex.performance import monitor\n"
        "@monitor\n"
        "def step():\n"
        "    return 1\n"
        "step()\n"
        "print('job ran')\n"
        "raise SystemExit(3)\n"
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("codomyrmex-perf")), "run", str(script)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
        env=clean_env(CODOMYRMEX_PERF_TELEMETRY_DIR=str(a_file), COLUMNS="80"),
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert result.stdout == "job ran\n"
    assert "Traceback" not in result.stderr
    warnings = [
        line for line in result.stderr.splitlines() if "CODOMYRMEX_PERF_TELEMETRY_DIR" in line
    ]
    assert len(warnings) == 1 and str(a_file) in warnings[0], result.stderr
    assert "step" in result.stderr  # the report still lists the monitored function
