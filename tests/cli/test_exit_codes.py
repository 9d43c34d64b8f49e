"""One exit-code table for every command: 0, 1, 2, 130, as ``--help`` and the README say.

Each row runs the installed ``codomyrmex-perf`` for real (Ctrl-C typed on a
pseudo-terminal), checks the code and, for bad input, the single error line.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codomyrmex.performance.cli import build_parser
from codomyrmex.performance.cli._session import EXIT_STATUS
from harness.terminal import in_terminal

SCRIPT = str(Path(sys.executable).with_name("codomyrmex-perf"))
README = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = ("demo", "mcp", "bench", "run", "view")

FILES = {
    "ok.py": "print('ran')\n",
    "exits_3.py": "raise SystemExit(3)\n",
    "fails.py": "raise ValueError('the script failed')\n",
    "interrupts.py": "raise KeyboardInterrupt\n",
    "sleeps.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n",
    "bench_ok.py": (
        "from codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('ok')\nsuite.add(lambda: None, name='noop')\n"
    ),
    "bench_fails.py": (
        "from codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('fails')\n"
        "@suite.add\ndef broken():\n    raise ValueError('broken on purpose')\n"
    ),
    "bench_slow.py": (
        "import time\nfrom codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('slow')\n"
        "@suite.add\ndef nap():\n    print('napping', flush=True)\n    time.sleep(0.05)\n"
    ),
    "corrupt.json": "{truncated",
}
QUICK = ["--rounds", "3", "--min-time", "0.001", "--no-progress"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CODOMYRMEX_"))}
    env["CODOMYRMEX_PERF_TELEMETRY_DIR"] = str(workdir / "telemetry")
    return env


def perf(workdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *arguments],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment(workdir),
        stdin=subprocess.DEVNULL,
        timeout=180,
    )


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["demo", "--json"], 0),
        (["run", "ok.py"], 0),
        (["bench", "bench_ok.py", "--in-process", *QUICK], 0),
        (["mcp"], 0),  # stdio: the client (here no input at all) went away
        (["view", "--help"], 0),
        (["bench", "bench_fails.py", "--in-process", *QUICK], 1),
        (["run", "fails.py"], 1),
        (["run", "exits_3.py"], 3),  # the script's own status
        (["run", "interrupts.py"], 130),
    ],
)
def test_success_failure_and_the_scripts_own_status(
    workdir: Path, arguments: list[str], code: int
) -> None:
    result = perf(workdir, *arguments)
    assert result.returncode == code, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["demo", "--bogus"], "unrecognized arguments: --bogus"),
        (["mcp", "--bogus"], "unrecognized arguments: --bogus"),
        (["bench", "bench_ok.py", "--bogus"], "unrecognized arguments: --bogus"),
        (["view", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run"], "run needs a program"),
        (["run", "missing.py"], "no such script: missing.py"),
        (["bench", "missing_dir"], "no such file or directory"),
        (["bench", "bench_ok.py", "--baseline", "corrupt.json"], "corrupt.json"),
        (["bench", "bench_ok.py", "--alpha", "2"], "--alpha must be between 0 and 1"),
        (["bench", "bench_ok.py", "--min-time", "nan"], "--min-time must be a positive"),
        (["demo", "--otlp", "http://127.0.0.1:PORT"], "cannot reach the OTLP endpoint"),
        (["bench", "bench_ok.py", "--otlp", "http://127.0.0.1:PORT"], "cannot reach"),
        (["mcp", "--transport", "streamable-http", "--host", "bogus.invalid"], "cannot listen"),
        (["mcp", "--bench-dir", "missing_dir"], "--bench-dir: no such directory"),
        (["mcp", "--bench-dir", "bench_ok.py"], "--bench-dir: not a directory: bench_ok.py"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    workdir: Path, arguments: list[str], message: str
) -> None:
    port = str(closed_port())
    result = perf(workdir, *(argument.replace("PORT", port) for argument in arguments))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("codomyrmex-perf: error: ") and message in line, line
    assert (workdir / "corrupt.json").read_text() == FILES["corrupt.json"]  # nothing overwritten


@pytest.mark.parametrize("extra", ["rich", "opentelemetry.sdk"])
def test_a_missing_extra_is_bad_input_too(workdir: Path, extra: str) -> None:
    code = (
        "import sys\n"
        f"sys.modules[{extra!r}] = None  # as if the extra were not installed\n"
        "from codomyrmex.performance.cli import main\n"
        "sys.exit(main(['run', 'ok.py']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment(workdir),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert "pip install 'codomyrmex-performance[cli]'" in line


@pytest.mark.parametrize(
    ("arguments", "started"),
    [
        (["bench", "bench_slow.py", "--rounds", "50"], "napping"),  # in worker processes
        (["bench", "bench_slow.py", "--rounds", "50", "--in-process"], "napping"),
        (["run", "sleeps.py"], "sleeping"),
        (["mcp", "--transport", "streamable-http", "--port", "PORT"], "Authorization: Bearer"),
    ],
)
def test_ctrl_c_is_one_line_and_exit_130(workdir: Path, arguments: list[str], started: str) -> None:
    port = str(closed_port())
    command = [SCRIPT, *(argument.replace("PORT", port) for argument in arguments)]
    run = in_terminal(
        command, columns=100, env=environment(workdir), cwd=str(workdir), interrupt_on=started
    )
    assert run.exit_code == 130, run.output
    assert "Traceback" not in run.output
    tail = run.output[run.output.index(started) :]
    messages = [line for line in re.split(r"[\r\n]", tail) if "interrupt" in line.lower()]
    assert len(messages) == 1, run.output  # the terminal echoes ^C before it
    said = "KeyboardInterrupt" if arguments[0] == "run" else "codomyrmex-perf: error: interrupted"
    assert messages[0].endswith(f"^C{said}") or messages[0] == said, messages


def test_every_help_ends_with_the_one_table_in_plain_text() -> None:
    parser = build_parser()
    helps = [parser.format_help()]
    subcommands = next(a for a in parser._actions if isinstance(a.choices, dict))
    assert set(subcommands.choices) == set(COMMANDS)
    helps += [subcommands.choices[command].format_help() for command in COMMANDS]
    for text in helps:
        assert text.rstrip().endswith(EXIT_STATUS), text
        assert "``" not in text and ":class:" not in text and ":func:" not in text
        assert not re.search(r"::$", text, re.MULTILINE), text


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_fits_80_columns_and_breaks_lines_between_words(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser()
    if command:
        subcommands = next(a for a in parser._actions if isinstance(a.choices, dict))
        parser = subcommands.choices[command]
    lines = parser.format_help().splitlines()
    assert [line for line in lines if len(line) > 80] == []
    assert [line for line in lines if re.search(r"\w-$", line)] == []  # codomyrmex-|perf


def test_the_readme_shows_the_same_table() -> None:
    table = re.search(
        r"\| exit code \| meaning \|\n\|---\|---\|\n((?:\|.*\|\n)+)",
        README.read_text(encoding="utf-8"),
    )
    assert table is not None
    readme = {
        int(code): " ".join(meaning.replace("`", "").split())
        for code, meaning in re.findall(r"\| (\d+) \| (.*) \|", table[1])
    }
    helped: dict[int, str] = {}
    for line in EXIT_STATUS.splitlines()[1:]:
        code, _, meaning = line.strip().partition(" ")
        if code.isdigit():
            helped[int(code)] = meaning.strip()
        else:
            helped[max(helped)] += " " + line.strip()
    assert readme == helped
