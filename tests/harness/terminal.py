"""Commands run in a real pseudo-terminal of a given width, and the tables they print.

``in_terminal(argv, columns=80)`` runs a command with its stdin, stdout and stderr on a
new pseudo-terminal sized ``columns`` x 50 (``TIOCSWINSZ``, so the program sees a real
terminal, not ``$COLUMNS``), returns what it printed (ANSI sequences removed) and its exit
code. ``interrupt_on=TEXT`` types Ctrl-C once ``TEXT`` has appeared, as a user would.

``first_column(text)`` lists the first cell of every table line (cells separated by
``│``): joined, a name folded over several lines comes out whole, so a test can check
that no name was cut.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["TerminalRun", "first_column", "in_terminal"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass(frozen=True)
class TerminalRun:
    output: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def in_terminal(
    argv: Sequence[str],
    *,
    columns: int,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 120,
    interrupt_on: str | None = None,
) -> TerminalRun:
    """Run ``argv`` on a ``columns``-wide pseudo-terminal until it exits."""
    child_env = {key: value for key, value in (env or os.environ).items()}
    for variable in ("COLUMNS", "LINES"):
        child_env.pop(variable, None)
    child_env["TERM"] = "xterm-256color"
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            if cwd is not None:
                os.chdir(cwd)
            os.execvpe(argv[0], list(argv), child_env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    received = bytearray()
    deadline = time.monotonic() + timeout
    interrupted = interrupt_on is None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                received += chunk
            if not interrupted and interrupt_on is not None and interrupt_on in _clean(received):
                os.write(fd, b"\x03")
                interrupted = True
        else:
            os.kill(pid, signal.SIGKILL)
            raise TimeoutError(f"{argv!r} did not finish in {timeout} s: {_clean(received)}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return TerminalRun(_clean(received), os.waitstatus_to_exitcode(status))


def _clean(raw: bytes | bytearray) -> str:
    text = bytes(raw).decode("utf-8", errors="replace").replace("\r\n", "\n")
    return _ANSI.sub("", text)


def first_column(text: str) -> list[str]:
    """The first cell of every table line of ``text``, stripped, the empty ones left out."""
    cells = (line.split("│")[0].strip() for line in text.splitlines() if "│" in line)
    return [cell for cell in cells if cell]
