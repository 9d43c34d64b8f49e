"""What every subcommand shares: errors, exit codes, help text, ``--otlp`` and telemetry.

Handlers raise :class:`CliError` for expected failures; ``main`` prints it as one line.
Help is plain text: :func:`plain_text` turns a module docstring (reST, the user
documentation) into a ``--help`` description, and :class:`HelpFormatter` wraps its
paragraphs to the terminal while keeping indented lines (examples, tables) as written;
``build_parser`` applies both, and the :data:`EXIT_STATUS` epilog, to every command.
"""

from __future__ import annotations

import argparse
import logging
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codomyrmex.performance.telemetry import TelemetryHandle

__all__ = [
    "EXIT_STATUS",
    "PROG",
    "CliError",
    "HelpFormatter",
    "TelemetryOutcome",
    "add_otlp_argument",
    "otlp_requested",
    "plain_text",
    "start_telemetry",
    "stop_telemetry",
]

PROG = "codomyrmex-perf"

#: The exit codes of every command, shown at the end of each ``--help``.
EXIT_STATUS = """\
exit status (every command):
  0    success
  1    a regression or a failed benchmark (bench); the script's own status (run)
  2    bad input: unknown option, missing file, unreachable endpoint, corrupt
       baseline, missing extra (one line on stderr, nothing overwritten)
  130  interrupted (Ctrl-C)"""


class CliError(Exception):
    """An expected failure, reported as one line on stderr with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


_ROLE = re.compile(r":[a-z:]+:`~?([^`<]*?)\s*(?:<[^`]*>)?`")


def plain_text(doc: str) -> str:
    """A reST docstring as plain help text: no roles, backquotes or ``::`` markers."""

    def role(match: re.Match[str]) -> str:
        target = match.group(1)
        return target.rsplit(".", 1)[-1] if match.group(0).count("~") else target

    text = _ROLE.sub(role, textwrap.dedent(doc).strip())
    text = re.sub(r"`([^`<]+?)\s*<([^`>]+)>`_", r"\1 (\2)", text)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"\s+::$", "", text, flags=re.MULTILINE)
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wraps each paragraph of a description or epilog; keeps indented lines as written.

    Lines break between words only, never inside a hyphenated name or path
    (``codomyrmex-perf``, ``~/.local/state/codomyrmex-performance``).
    """

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
            lines = paragraph.splitlines()
            if all(line.startswith(" ") for line in lines[1:]) and (
                lines[0].startswith(" ") or lines[0].endswith(":")
            ):
                paragraphs.append("\n".join(indent + line for line in lines))
            else:
                paragraphs.append(
                    textwrap.fill(
                        " ".join(line.strip() for line in lines),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                        break_on_hyphens=False,
                    )
                )
        return "\n\n".join(paragraphs)


def add_otlp_argument(parser: argparse.ArgumentParser, *, files_by_default: bool = True) -> None:
    """Add ``--otlp URL``, the OTLP endpoint option every telemetry-producing command shares.

    ``files_by_default``: without an endpoint, the command writes OTLP-JSON files (demo,
    run) rather than exporting nothing (bench, mcp: see :func:`otlp_requested`).
    """
    fallback = (
        "OTLP-JSON files in the telemetry directory ($CODOMYRMEX_PERF_TELEMETRY_DIR or "
        "~/.local/state/codomyrmex-performance/telemetry)"
        if files_by_default
        else "no export"
    )
    parser.add_argument(
        "--otlp",
        metavar="URL",
        help="send traces and metrics to this OTLP endpoint (base URL such as "
        "http://localhost:4318; grpc with OTEL_EXPORTER_OTLP_PROTOCOL=grpc). Default: "
        f"the OTEL_EXPORTER_OTLP_*ENDPOINT variables, else {fallback}",
    )


def otlp_requested(endpoint: str | None) -> bool:
    """Whether ``--otlp`` or any ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable asks for export."""
    from codomyrmex.performance.telemetry._exporters import SIGNALS, env_endpoint

    return endpoint is not None or any(env_endpoint(signal) for signal in SIGNALS)


def start_telemetry(service_name: str, endpoint: str | None) -> TelemetryHandle:
    """``configure_telemetry`` for a command, after checking that the endpoints answer.

    The endpoint is ``endpoint`` (``--otlp``), else each one in the ``OTEL_EXPORTER_OTLP_*``
    variables (per signal or shared). A malformed or unreachable URL is bad input: a
    :class:`CliError` with exit code 2, before any work is done. Until
    :func:`stop_telemetry`, the warnings of the SDK and the exporters are kept for the
    command's report rather than printed one by one: a loss is reported once.
    """
    from codomyrmex.performance.telemetry import configure_telemetry
    from codomyrmex.performance.telemetry._exporters import SIGNALS, env_endpoint

    if endpoint is not None:
        _check_reachable(endpoint, from_option=True)
    else:
        urls = {env_endpoint(signal) for signal in SIGNALS}
        for url in sorted(url for url in urls if url):
            _check_reachable(url, from_option=False)
    try:
        handle = configure_telemetry(service_name, endpoint=endpoint)
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc), exit_code=2) from exc
    problems = _problems[id(handle)] = _ExportProblems()
    problems.attach()
    return handle


@dataclass(frozen=True)
class TelemetryOutcome:
    """How a command's telemetry ended.

    ``flushed``: everything was handed over before the shutdown gave up waiting.
    ``problems``: the distinct warnings the SDK and the exporters logged meanwhile (why
    spans were lost), each with how often it was logged.
    """

    flushed: bool
    problems: list[str] = field(default_factory=list)

    def line(self, handle: TelemetryHandle) -> str:
        """One line saying where the spans went and what was lost (``bench``, ``mcp``)."""
        stats = handle.stats()
        text = f"telemetry: {stats.exported} of {stats.ended} spans sent to {handle.destination}"
        lost = stats.dropped + stats.failed
        if lost:
            text += f"; {lost} lost ({stats.dropped} dropped, {stats.failed} failed to export)"
        if not self.flushed:
            text += "; gave up waiting for the export to finish"
        if self.problems:
            text += ": " + "; ".join(self.problems)
        return text


#: Loggers whose warnings say why telemetry was lost: kept for the command's own report.
_EXPORT_LOGGERS = ("opentelemetry", "codomyrmex.performance.telemetry")


class _ExportProblems(logging.Handler):
    """Collects the export warnings of one command instead of printing each as it comes."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}
        self.propagate: dict[str, bool] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = " ".join(record.getMessage().split())
        if "were not delivered to" not in message:  # the loss itself: the report counts it
            self.counts[message] = self.counts.get(message, 0) + 1

    def attach(self) -> None:
        for name in _EXPORT_LOGGERS:
            logger = logging.getLogger(name)
            self.propagate[name] = logger.propagate
            logger.propagate = False
            logger.addHandler(self)

    def detach(self) -> list[str]:
        for name, propagate in self.propagate.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.propagate = propagate
        return [
            message if count == 1 else f"{message} (x{count})"
            for message, count in self.counts.items()
        ]


_problems: dict[int, _ExportProblems] = {}


def stop_telemetry(handle: TelemetryHandle) -> TelemetryOutcome:
    """Flush and shut ``handle`` down; how it went.

    Losing telemetry never changes a command's exit code: ``demo`` and ``run`` say what
    was lost in their report, ``bench`` and ``mcp`` in one line (:meth:`TelemetryOutcome.line`).
    """
    flushed = handle.shutdown()
    problems = _problems.pop(id(handle), None)
    return TelemetryOutcome(flushed, problems.detach() if problems is not None else [])


def _check_reachable(url: str, *, from_option: bool) -> None:
    from codomyrmex.performance.telemetry._exporters import check_reachable

    source = "--otlp" if from_option else "the OTEL_EXPORTER_OTLP_* endpoint"
    try:
        check_reachable(url, source)
    except ValueError as exc:
        raise CliError(str(exc), exit_code=2) from exc
